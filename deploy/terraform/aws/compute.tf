resource "aws_cloudwatch_log_group" "app" {
  name              = "/pathbot/${var.environment}"
  retention_in_days = var.log_retention_days
}

data "aws_ec2_instance_type" "app" {
  instance_type = var.instance_type
}

locals {
  arch = contains(data.aws_ec2_instance_type.app.supported_architectures, "arm64") ? "arm64" : "x86_64"

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    region           = var.region
    image            = "${var.image}:${var.image_tag}"
    log_group        = aws_cloudwatch_log_group.app.name
    log_level        = var.log_level
    slack_secret_arn = aws_secretsmanager_secret.slack.arn
    db_secret_arn    = aws_db_instance.this.master_user_secret[0].secret_arn
    db_host          = aws_db_instance.this.address
    db_port          = aws_db_instance.this.port
    db_name          = aws_db_instance.this.db_name
  })
}

resource "aws_launch_template" "app" {
  name_prefix = "${local.name}-"
  description = "pathbot ${var.image_tag}"

  # Resolved by EC2 at each launch, so replacements get the latest patched Amazon Linux 2023.
  image_id      = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${local.arch}"
  instance_type = var.instance_type
  user_data     = base64encode(local.user_data)

  update_default_version = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.app.arn
  }

  network_interfaces {
    associate_public_ip_address = local.assign_public_ip
    security_groups             = [aws_security_group.app.id]
    delete_on_termination       = true
  }

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
    # One hop: the host's AWS CLI and Docker daemon reach the instance credentials, a container
    # behind Docker's bridge (one hop further) does not.
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = 16
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = local.name }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = local.name }
  }
}

resource "aws_autoscaling_group" "app" {
  name_prefix         = "${local.name}-"
  vpc_zone_identifier = local.app_subnet_ids

  # A fixed size: each instance is one Socket Mode connection, and there is no load to scale on.
  # The group's job is to replace a failed instance and to roll a new launch template.
  min_size         = var.replicas
  max_size         = var.replicas + 1
  desired_capacity = var.replicas

  health_check_type         = "EC2"
  health_check_grace_period = 120

  launch_template {
    id      = aws_launch_template.app.id
    version = aws_launch_template.app.latest_version
  }

  # A new image tag or user data changes the template, which replaces instances one at a time.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
      instance_warmup        = 120
    }
  }

  tag {
    key                 = "Name"
    value               = local.name
    propagate_at_launch = true
  }
}
