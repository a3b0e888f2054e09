package nmea_test

import (
	"errors"
	"fmt"

	"github.com/edgemq/edgemq/devices/nmea"
)

func ExampleParse() {
	for _, line := range []string{
		"$GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E*68",
		"$GPGSV,1,1,00*79",
		"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48",
	} {
		s, err := nmea.Parse(line)
		switch {
		case errors.Is(err, nmea.ErrUnsupported):
			continue // other sentence types are normal traffic
		case err != nil:
			fmt.Println("error:", err)
			continue
		}
		if s.HasPosition && s.Valid {
			fmt.Printf("%s %s %.5f,%.5f %.1f kn\n", s.Type, s.Time.Format("2006-01-02T15:04:05Z"), s.Lat, s.Lon, s.SpeedKnots)
		}
	}
	// Output:
	// RMC 1994-11-19T22:54:46Z 49.27417,-123.18533 0.5 kn
	// error: checksum is 48, computed 47: nmea: checksum
}
