package config_test

import (
	"errors"
	"fmt"

	"github.com/edgemq/edgemq/internal/config"
)

func ExampleParse() {
	data := []byte(`
gateway: {id: gw1}
broker:
  listeners:
    - {type: tcp, address: "0.0.0.0:1883", allow_anonymous: false}
  limits: {max_packet_size: 64KiB, max_keep_alive: 60s}
memory_limit: 96MiB
`)
	c, err := config.Parse("edgemq.yaml", data)
	if err != nil {
		fmt.Println(err)
		return
	}
	l := c.Broker.Listeners[0]
	fmt.Println("gateway:", c.Gateway.ID)
	fmt.Println("listener:", l.Type, l.Address, "anonymous:", *l.AllowAnonymous)
	fmt.Println("max packet:", c.Broker.Limits.MaxPacketSize, int64(c.Broker.Limits.MaxPacketSize))
	fmt.Println("max keep-alive:", c.Broker.Limits.MaxKeepAlive.Duration().Seconds())
	fmt.Println("max connections (default):", c.Broker.Limits.MaxConnections)
	fmt.Println("$SYS every (default):", c.Broker.SysInterval)
	fmt.Println("GOMEMLIMIT:", int64(c.MemoryLimit))
	// Output:
	// gateway: gw1
	// listener: tcp 0.0.0.0:1883 anonymous: false
	// max packet: 64KiB 65536
	// max keep-alive: 60
	// max connections (default): 2000
	// $SYS every (default): 10s
	// GOMEMLIMIT: 100663296
}

func ExampleParse_errors() {
	data := []byte(`gateway: {id: gw1}
broker:
  limts: {max_connections: 10}
  limits:
    max_connections: lots
  listeners:
    - {type: tcp, address: "0.0.0.0"}
`)
	_, err := config.Parse("edgemq.yaml", data)
	fmt.Println(err)
	fmt.Println("refused:", errors.Is(err, config.ErrInvalid))
	for _, e := range config.Errors(err) {
		fmt.Printf("line %d: %s\n", e.Line, e.Path)
	}
	// Output:
	// edgemq.yaml:3: broker.limts: unknown key (did you mean "limits"?)
	// edgemq.yaml:5: broker.limits.max_connections: want an integer, got "lots"
	// edgemq.yaml:7: broker.listeners[0].address: missing port
	// refused: true
	// line 3: broker.limts
	// line 5: broker.limits.max_connections
	// line 7: broker.listeners[0].address
}

func ExampleParseSize() {
	for _, s := range []string{"256KiB", "1.5MiB", "2GB", "4096"} {
		n, err := config.ParseSize(s)
		fmt.Println(s, int64(n), n, err)
	}
	// Output:
	// 256KiB 262144 256KiB <nil>
	// 1.5MiB 1572864 1536KiB <nil>
	// 2GB 2000000000 1953125KiB <nil>
	// 4096 4096 4KiB <nil>
}
