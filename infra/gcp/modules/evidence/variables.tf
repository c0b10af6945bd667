variable "project_id" {
  description = "The evidence project: locker bucket, BigQuery dataset, functions, workflows."
  type        = string
}

variable "region" {
  description = "Region of the functions, workflows, scheduler jobs and key ring (e.g. europe-west1)."
  type        = string
}

variable "location" {
  description = "Location of the evidence bucket and the BigQuery dataset (a region, or EU / US)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "amber"
}

variable "retention_days" {
  description = "Retention of every preserved object: Amber creates each with a LOCKED object retention until this many days after its preservation; it can never be shortened, and the object cannot be deleted or replaced before then."
  type        = number
  default     = 365
}

variable "function_source_bucket" {
  description = "Bucket holding the functions' source archive (npm run build:functions-gcp, then upload dist/functions-gcp.zip)."
  type        = string
}

variable "function_source_object" {
  description = "Object name of the functions' source archive in function_source_bucket."
  type        = string
}

variable "derive_source_object" {
  description = "Object name of the derive function's source archive (dist/functions-gcp-derive.zip) in function_source_bucket."
  type        = string
}

variable "collector_service_accounts" {
  description = "Collector service account per member project (the member module's output), impersonated by the instance steps."
  type        = map(string)
  default     = {}
}

variable "scc_min_severity" {
  description = "Security Command Center findings below this severity are ignored (LOW, MEDIUM, HIGH, CRITICAL)."
  type        = string
  default     = "HIGH"
}

variable "scc_log_sink" {
  description = "An existing log sink (gs://bucket[/prefix]) whose objects are preserved with a Security Command Center finding's log window; null: none. The member module of the finding's project must name the same bucket (log_sink_bucket) so its collector may read it. A Preservation Requested message names its own sink (detail.logSink)."
  type        = string
  default     = null
  validation {
    condition     = var.scc_log_sink == null || can(regex("^gs://[a-z0-9][a-z0-9._-]{1,221}(/.*)?$", var.scc_log_sink))
    error_message = "scc_log_sink must be gs://bucket or gs://bucket/prefix."
  }
}

variable "detection_schedules" {
  description = "Scheduled detection runs: cron (Cloud Scheduler syntax, UTC), ISO-8601 window and detection ids (each needs a query.bigquery.sql)."
  type = map(object({
    schedule   = string
    window     = string
    detections = list(string)
  }))
  default = {
    hourly = {
      schedule = "5 * * * *"
      window   = "PT1H"
      detections = [
        "gcp-bucket-made-public",
        "gcp-firewall-open-to-internet",
        "gcp-iam-powerful-role-granted",
        "gcp-logging-sink-disabled-or-deleted",
        "gcp-service-account-key-or-token-by-other",
      ]
    }
  }
}
