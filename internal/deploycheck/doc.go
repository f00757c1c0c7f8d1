// Package deploycheck checks the deployment files offline: every YAML file under deploy/ parses,
// and the Dockerfile, Compose file, Fly.io and Render configs, Kubernetes manifests and alert rules
// keep the properties that pathbot's operation depends on (no inbound port for Socket Mode, a
// separate migration step, non-root read-only containers, probes on the health server, alerts that
// name real series and link to the runbook). It has only tests; `go test` and
// scripts/check-deploy.sh run them.
package deploycheck
