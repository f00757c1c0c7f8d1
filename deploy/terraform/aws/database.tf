resource "aws_db_subnet_group" "this" {
  name_prefix = "${local.name}-"
  description = "pathbot database subnets"
  subnet_ids  = local.db_subnet_ids
}

resource "random_id" "final_snapshot" {
  byte_length = 4
}

resource "aws_db_instance" "this" {
  identifier     = local.name
  engine         = "postgres"
  engine_version = "16"
  instance_class = var.db_instance_class

  db_name  = "pathbot"
  username = "pathbot"
  # RDS generates the password, keeps it in Secrets Manager and can rotate it: it never appears in
  # Terraform state, tfvars or user data.
  manage_master_user_password = true

  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  multi_az               = var.db_multi_az

  backup_retention_period    = var.db_backup_retention_days
  copy_tags_to_snapshot      = true
  auto_minor_version_upgrade = true
  deletion_protection        = var.db_deletion_protection
  skip_final_snapshot        = false
  final_snapshot_identifier  = "${local.name}-final-${random_id.final_snapshot.hex}"

  # Minor upgrades and parameter changes wait for the maintenance window rather than restarting the
  # database in the middle of the day.
  apply_immediately = false
}
