variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-central-1"
}

variable "environment" {
  description = "Name of this deployment (prod, staging); part of every resource name."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment must be 1-16 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# --- Network --------------------------------------------------------------------------------

variable "vpc_id" {
  description = "Existing VPC to use. Null creates a small VPC (two public subnets for the bot, two private ones for the database)."
  type        = string
  default     = null
}

variable "app_subnet_ids" {
  description = "With vpc_id: subnets for the bot. They need outbound HTTPS (a NAT gateway, or public subnets with assign_public_ip)."
  type        = list(string)
  default     = []
}

variable "db_subnet_ids" {
  description = "With vpc_id: private subnets, in at least two availability zones, for the database."
  type        = list(string)
  default     = []
}

variable "assign_public_ip" {
  description = "Give the bot instances public IPv4 addresses for egress. Null means: yes when this module creates the VPC (no NAT gateway), no otherwise."
  type        = bool
  default     = null
}

variable "vpc_cidr" {
  description = "CIDR of the VPC created when vpc_id is null."
  type        = string
  default     = "10.42.0.0/16"
}

# --- Compute --------------------------------------------------------------------------------

variable "instance_type" {
  description = "EC2 instance type. Graviton types (t4g.*) need an arm64 image, which the Dockerfile builds with buildx."
  type        = string
  default     = "t3.micro"
}

variable "replicas" {
  description = "Instances, each holding one Socket Mode connection. Slack allows at most 10 per app."
  type        = number
  default     = 2

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 9
    error_message = "replicas must be between 1 and 9: Slack allows 10 Socket Mode connections and a rolling replacement briefly adds one."
  }
}

variable "image" {
  description = "Container image repository, without tag. Must be pullable without credentials (or add registry login to user_data)."
  type        = string
  default     = "ghcr.io/pathbot/pathbot"
}

variable "image_tag" {
  description = "Image tag to run. Changing it rolls the instances one at a time."
  type        = string

  validation {
    condition     = var.image_tag != "" && var.image_tag != "latest"
    error_message = "Pin image_tag to a release: with \"latest\" a replaced instance may run a different build from its peer."
  }
}

variable "log_level" {
  description = "LOG_LEVEL for the bot."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention."
  type        = number
  default     = 30
}

variable "enable_ssm_session_manager" {
  description = "Attach AmazonSSMManagedInstanceCore so operators can open a shell with Session Manager (there is no SSH). Off by default to keep the role minimal."
  type        = bool
  default     = false
}

# --- Database -------------------------------------------------------------------------------

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "db_allocated_storage" {
  description = "Initial storage in GiB; storage autoscaling grows it up to db_max_allocated_storage."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage" {
  description = "Ceiling for storage autoscaling in GiB."
  type        = number
  default     = 100
}

variable "db_multi_az" {
  description = "Run a standby in a second availability zone."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 7
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database. Turn off deliberately before a destroy."
  type        = bool
  default     = true
}
