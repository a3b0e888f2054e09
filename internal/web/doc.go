// Package web is the gateway's HTTP side: the dashboard (assets embedded
// in the binary), the JSON API under /api/v1/ (docs/api.md), Prometheus
// metrics at /metrics, and /healthz and /readyz.
//
// It looks at the broker through its inspection API and in-process
// client, and at bridges, sinks and devices through the functions of
// Sources; it knows nothing else about them.
package web
