# The Slack tokens live in one JSON secret whose value Terraform never sees, so it is in neither
# tfvars nor state. Set it after the first apply (see README.md):
#   aws secretsmanager put-secret-value --secret-id <slack_secret_arn> --secret-string file://slack.json
# with {"SLACK_APP_TOKEN":"xapp-…","SLACK_BOT_TOKEN":"xoxb-…"} and optionally LEADERBOARD_CHANNEL
# and PATHBOT_ADMINS. Instances read it at every (re)start of the service.
resource "random_id" "secret_suffix" {
  # A deleted secret's name stays reserved for its recovery window; a suffix lets a destroyed
  # environment be recreated at once.
  byte_length = 3
}

resource "aws_secretsmanager_secret" "slack" {
  name                    = "${local.name}/slack-${random_id.secret_suffix.hex}"
  description             = "pathbot Slack tokens (JSON: SLACK_APP_TOKEN, SLACK_BOT_TOKEN, optional LEADERBOARD_CHANNEL, PATHBOT_ADMINS)"
  recovery_window_in_days = 7
}
