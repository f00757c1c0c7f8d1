output "slack_secret_arn" {
  description = "Put the Slack tokens here (JSON) after the first apply; see README.md."
  value       = aws_secretsmanager_secret.slack.arn
}

output "db_secret_arn" {
  description = "RDS-managed secret with the database user and password."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "db_endpoint" {
  description = "Database host:port, reachable from the bot instances only."
  value       = aws_db_instance.this.endpoint
}

output "autoscaling_group_name" {
  description = "The bot's Auto Scaling group (for instance refreshes and `aws autoscaling describe-auto-scaling-groups`)."
  value       = aws_autoscaling_group.app.name
}

output "log_group_name" {
  description = "CloudWatch Logs group with the bot's and the migrations' output, one stream per instance."
  value       = aws_cloudwatch_log_group.app.name
}

output "app_security_group_id" {
  description = "Security group of the bot instances (no ingress)."
  value       = aws_security_group.app.id
}

output "vpc_id" {
  description = "VPC the stack runs in."
  value       = local.vpc_id
}
