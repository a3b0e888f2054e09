package bridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"time"
)

// SASToken returns an Azure IoT Hub shared access signature for
// resourceURI (such as "<hub>.azure-devices.net/devices/<device-id>"),
// signed with key (the base64-decoded shared access key) and valid until
// expiry:
//
//	SharedAccessSignature sr=<uri>&sig=<signature>&se=<expiry>
//
// where <uri> is resourceURI URL-encoded, <expiry> is in Unix seconds and
// <signature> is the URL-encoded base64 HMAC-SHA256 of "<uri>\n<expiry>".
func SASToken(resourceURI string, key []byte, expiry time.Time) string {
	sr := url.QueryEscape(resourceURI)
	se := strconv.FormatInt(expiry.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(sr + "\n" + se))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return "SharedAccessSignature sr=" + sr + "&sig=" + url.QueryEscape(sig) + "&se=" + se
}

// SASCredentials returns a Config.Credentials that logs in as user with a
// fresh SASToken for resourceURI at every connect, valid for lifetime
// from then; the bridge reconnects with a new one before it expires.
func SASCredentials(user, resourceURI string, key []byte, lifetime time.Duration) func(now time.Time) (string, string, time.Time, error) {
	key = append([]byte(nil), key...)
	return func(now time.Time) (string, string, time.Time, error) {
		exp := now.Add(lifetime).Truncate(time.Second)
		return user, SASToken(resourceURI, key, exp), exp, nil
	}
}
