locals {
  name       = "pathbot-${var.environment}"
  create_vpc = var.vpc_id == null

  vpc_id         = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  app_subnet_ids = local.create_vpc ? aws_subnet.public[*].id : var.app_subnet_ids
  db_subnet_ids  = local.create_vpc ? aws_subnet.private[*].id : var.db_subnet_ids

  # Without a NAT gateway (about as costly as the rest of this stack together) the bot reaches
  # Slack through a public address. That address accepts nothing: the security group has no
  # ingress rule at all.
  assign_public_ip = coalesce(var.assign_public_ip, local.create_vpc)

  azs = slice(data.aws_availability_zones.available.names, 0, 2)
}

data "aws_availability_zones" "available" {
  state = "available"
}

resource "aws_vpc" "this" {
  count = local.create_vpc ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = local.name }
}

resource "aws_internet_gateway" "this" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = { Name = local.name }
}

resource "aws_subnet" "public" {
  count = local.create_vpc ? length(local.azs) : 0

  vpc_id            = aws_vpc.this[0].id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, count.index)

  tags = { Name = "${local.name}-public-${local.azs[count.index]}" }
}

resource "aws_subnet" "private" {
  count = local.create_vpc ? length(local.azs) : 0

  vpc_id            = aws_vpc.this[0].id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 100 + count.index)

  tags = { Name = "${local.name}-private-${local.azs[count.index]}" }
}

resource "aws_route_table" "public" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = { Name = "${local.name}-public" }
}

resource "aws_route" "public_internet" {
  count = local.create_vpc ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  count = local.create_vpc ? length(local.azs) : 0

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

# The private subnets keep the VPC's main route table: local traffic only, no way out.

# --- Security groups ------------------------------------------------------------------------

# The bot opens every connection itself (Slack over Socket Mode, Secrets Manager, CloudWatch,
# the image registry), so its group has no ingress rule. Terraform removes AWS's default
# allow-all egress from groups it creates, leaving exactly the rules below.
resource "aws_security_group" "app" {
  name_prefix = "${local.name}-app-"
  description = "pathbot instances: no ingress; egress to HTTPS and the database only"
  vpc_id      = local.vpc_id

  tags = { Name = "${local.name}-app" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "app_https" {
  security_group_id = aws_security_group.app.id
  description       = "Slack API and Socket Mode, AWS APIs, image registry, OS packages"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "app_db" {
  security_group_id            = aws_security_group.app.id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
}

resource "aws_security_group" "db" {
  name_prefix = "${local.name}-db-"
  description = "pathbot database: PostgreSQL from the bot only"
  vpc_id      = local.vpc_id

  tags = { Name = "${local.name}-db" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "db_from_app" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from pathbot instances"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.app.id
}
