#!/usr/bin/env bash
# Checks the deployment files offline: the Prometheus alert rules and their unit tests, Terraform
# formatting and the instance user data it renders, the Kubernetes kustomization, fly.toml, and the
# Go tests in internal/deploycheck (every YAML file under deploy/ parses; Dockerfile, Compose, Fly,
# Render and Kubernetes keep the properties pathbot relies on). promtool is installed from Debian
# when missing; kubectl, terraform and python3 checks are skipped, with a message, where the tool is
# absent. Nothing here talks to a cloud or a cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '%s\n' "$*"; }
skip() { printf 'SKIP: %s\n' "$*"; }

# An absent CLI config file only makes terraform warn on every call.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
  unset TF_CLI_CONFIG_FILE
fi

say "-- promtool"
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    say "promtool is missing and this is not root, so it cannot be installed here."
    say "Install Debian's 'prometheus' package (or put promtool on PATH) and run again."
    exit 1
  fi
  say "promtool is missing; installing Debian's prometheus package"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }; then
    say "apt-get could not install prometheus (for promtool); the alert rules were not checked."
    exit 1
  fi
fi
promtool check rules deploy/prometheus/alerts.yaml
promtool test rules deploy/prometheus/alerts_test.yaml

say "-- terraform"
if command -v terraform >/dev/null 2>&1; then
  terraform fmt -check -recursive -diff deploy/terraform
  say "terraform fmt: ok"
  # The providers cannot be downloaded offline, so `terraform validate` of the module is not
  # possible here. The user data template needs no provider: render it with sample values and
  # check the shell it produces.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cat > "$tmp/render.tf" <<'HCL'
variable "template" { type = string }
output "user_data" {
  value = templatefile(var.template, {
    region           = "eu-central-1"
    image            = "ghcr.io/pathbot/pathbot:v0.0.0"
    log_group        = "/pathbot/check"
    log_level        = "info"
    slack_secret_arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:pathbot-check/slack-abc123"
    db_secret_arn    = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-check"
    db_host          = "pathbot-check.example.eu-central-1.rds.amazonaws.com"
    db_port          = 5432
    db_name          = "pathbot"
  })
}
HCL
  (
    cd "$tmp"
    terraform init -input=false -no-color >/dev/null
    terraform validate -no-color >/dev/null
    terraform apply -input=false -auto-approve -no-color \
      -var "template=$OLDPWD/deploy/terraform/aws/user_data.sh.tftpl" >/dev/null
    terraform output -raw user_data > user_data.sh
  )
  bash -n "$tmp/user_data.sh"
  if command -v python3 >/dev/null 2>&1; then
    # The embedded Python that turns secrets into the env file must at least compile.
    awk "/<<'PY'\$/{f=1;next} /^PY\$/{f=0} f" "$tmp/user_data.sh" > "$tmp/env.py"
    test -s "$tmp/env.py"
    python3 -m py_compile "$tmp/env.py"
  fi
  say "terraform user data: renders, bash -n ok"
else
  skip "terraform is not installed: deploy/terraform formatting and user data not checked"
fi

say "-- kubernetes"
if command -v kubectl >/dev/null 2>&1; then
  kubectl kustomize deploy/kubernetes >/dev/null
  say "kubectl kustomize deploy/kubernetes: ok"
else
  skip "kubectl is not installed: the kustomization was not built"
fi

say "-- fly.toml"
if python3 -c 'import tomllib' >/dev/null 2>&1; then
  python3 -c 'import sys, tomllib; tomllib.load(open(sys.argv[1], "rb"))' deploy/fly/fly.toml
  say "fly.toml parses as TOML"
else
  skip "python3 with tomllib (3.11+) is not available: fly.toml syntax not checked"
fi

say "-- go test ./internal/deploycheck"
go test -count=1 ./internal/deploycheck/
