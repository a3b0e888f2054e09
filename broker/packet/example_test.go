package packet_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/edgemq/edgemq/broker/packet"
)

func ExampleAppend() {
	pub := &packet.Publish{QoS: 1, PacketID: 10, Topic: "a/b", Payload: []byte("21.5")}
	buf, err := packet.Append(nil, pub, packet.Version311)
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", buf)
	fmt.Println(packet.Size(pub, packet.Version311), "bytes")

	// MQTT 5 adds properties; a PUBACK of Success without properties takes
	// the short form.
	pub.Properties.MessageExpiry = 60
	pub.Properties.Set(packet.PropMessageExpiry)
	buf, _ = packet.Append(buf[:0], pub, packet.Version5)
	fmt.Printf("% x\n", buf)
	buf, _ = packet.Append(buf[:0], &packet.Ack{Kind: packet.PUBACK, PacketID: 10}, packet.Version5)
	fmt.Printf("% x\n", buf)
	// Output:
	// 32 0b 00 03 61 2f 62 00 0a 32 31 2e 35
	// 13 bytes
	// 32 11 00 03 61 2f 62 00 0a 05 02 00 00 00 3c 32 31 2e 35
	// 40 02 00 0a
}

func ExampleDecode() {
	raw := []byte{
		0x30, 0x0A, // PUBLISH QoS 0, remaining length 10
		0x00, 0x03, 'a', '/', 'b', // topic "a/b"
		0x03, 0x23, 0x00, 0x07, // property length 3: Topic Alias 7
		'!', // payload
	}
	fh, n, err := packet.DecodeFixedHeader(raw)
	if err != nil {
		panic(err)
	}
	p, err := packet.Decode(fh, raw[n:], packet.Version5)
	if err != nil {
		panic(err)
	}
	pub := p.(*packet.Publish)
	fmt.Println(pub.Type(), pub.Topic, string(pub.Payload), pub.Properties.Has(packet.PropTopicAlias), pub.Properties.TopicAlias)

	// The same packet with a wildcard in its topic is refused.
	raw[6] = '#'
	_, err = packet.Decode(fh, raw[n:], packet.Version5)
	fmt.Println(errors.Is(err, packet.ErrTopicNameInvalid), err)
	// Output:
	// PUBLISH a/b ! true 7
	// true packet: topic name invalid: wildcard in topic name [MQTT-3.3.2-2]
}

func ExampleRead() {
	stream := bytes.NewReader([]byte{
		0xC0, 0x00, // PINGREQ
		0x30, 0x05, 0x00, 0x01, 't', 'h', 'i', // PUBLISH "t" "hi"
		0x30, 0x7F, // PUBLISH of 127 bytes
	})
	for {
		p, err := packet.Read(stream, 64, packet.Version311)
		if err != nil {
			var e *packet.Error
			if errors.As(err, &e) {
				fmt.Printf("refused with reason code 0x%02X: %v\n", byte(e.Code), err)
			}
			return
		}
		fmt.Println(p.Type())
	}
	// Output:
	// PINGREQ
	// PUBLISH
	// refused with reason code 0x95: packet: packet too large: PUBLISH of 129 bytes, limit 64
}
