variable "name_prefix" {
  description = "Prefix of every resource name (3-11 lowercase letters and digits: storage account names are global and short)."
  type        = string
  default     = "amber"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,10}$", var.name_prefix))
    error_message = "name_prefix must be 3-11 lowercase letters and digits, starting with a letter."
  }
}

variable "location" {
  description = "Azure location of the evidence resource group, the function app and the snapshots (VMs elsewhere cannot be snapshotted into it)."
  type        = string
}

variable "retention_days" {
  description = "Days every blob version in the evidence store is kept immutable (version-level WORM, time-based retention)."
  type        = number
  default     = 365
  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 146000
    error_message = "retention_days must be between 1 and 146000."
  }
}

variable "immutability_state" {
  description = "State of the evidence account's time-based retention policy. Azure creates a policy only Unlocked: apply once with \"Unlocked\", then again with \"Locked\" (irreversible: retention can then only grow)."
  type        = string
  default     = "Locked"
  validation {
    condition     = contains(["Unlocked", "Locked"], var.immutability_state)
    error_message = "immutability_state must be Unlocked (first apply only) or Locked; Disabled would leave evidence mutable."
  }
}

variable "collector_scopes" {
  description = "Scopes (subscription or resource group ids) whose VMs Amber may read and snapshot. Default: this subscription."
  type        = list(string)
  default     = []
}

variable "enable_isolation" {
  description = "Grant the function the network writes isolation needs (create the quarantine NSG, attach it to NICs). Off: requests with isolate=true fail at that step and the ledger records it."
  type        = bool
  default     = false
}

variable "defender_min_severity" {
  description = "Lowest Defender for Cloud alert severity that starts preservation."
  type        = string
  default     = "High"
  validation {
    condition     = contains(["Informational", "Low", "Medium", "High"], var.defender_min_severity)
    error_message = "defender_min_severity must be Informational, Low, Medium or High."
  }
}

variable "default_log_window_hours" {
  description = "Hours of logs before an alert a Defender-triggered request names."
  type        = number
  default     = 24
}

variable "detection_schedule" {
  description = "NCRONTAB schedule of the detection run (six fields)."
  type        = string
  default     = "0 5 * * * *"
}

variable "detection_window" {
  description = "ISO-8601 duration each detection run looks back (match the schedule)."
  type        = string
  default     = "PT1H"
}

variable "graph_application_permissions" {
  description = "Microsoft Graph application permissions of Amber's app registration (for the Entra ID log collectors); see README.md for why each is needed."
  type        = list(string)
  default     = ["AuditLog.Read.All", "Directory.Read.All"]
}

variable "management_api_application_permissions" {
  description = "Office 365 Management Activity API application permissions of Amber's app registration (for the M365 unified audit log collector)."
  type        = list(string)
  default     = ["ActivityFeed.Read"]
}

variable "log_tenant_id" {
  description = "Entra tenant (directory) id whose sign-ins, directory audits and Microsoft 365 audit log a request's window also preserves (AMBER_LOG_TENANT_ID). Empty: the Activity Log only. Needs the Graph and Management API application permissions granted to the function's managed identity (README.md)."
  type        = string
  default     = ""
  validation {
    condition     = var.log_tenant_id == "" || can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.log_tenant_id))
    error_message = "log_tenant_id must be a tenant id (a GUID) or empty."
  }
}

variable "log_budget_seconds" {
  description = "Seconds of log reading per invocation (AMBER_LOG_BUDGET_SECONDS); what is not read by then is reported incomplete and the redelivered event resumes. Keep it under 230 s minus the VM preservation time: HTTP triggers must answer within 230 s."
  type        = number
  default     = 120
  validation {
    condition     = var.log_budget_seconds >= 1 && floor(var.log_budget_seconds) == var.log_budget_seconds
    error_message = "log_budget_seconds must be a whole number of at least 1."
  }
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}

variable "inventory_on_preserve" {
  description = "Take the estate inventory of the subscription (Resource Graph, diagnostic settings, and Entra ID when log_tenant_id is set) as the first step of every VM preservation (AMBER_INVENTORY_ON_PRESERVE). The inventory function (POST /api/inventory) is there either way."
  type        = bool
  default     = true
}

variable "preserve_entra_risk" {
  description = "Also preserve Entra ID Protection risk detections and risky users of a request's window (AMBER_LOG_ENTRA_RISK). Needs log_tenant_id and the Graph permissions in risk_state_graph_permissions."
  type        = bool
  default     = false
  validation {
    condition     = !var.preserve_entra_risk || var.log_tenant_id != ""
    error_message = "preserve_entra_risk needs log_tenant_id: the risk pull reads a tenant's Microsoft Graph."
  }
}

variable "preserve_azure_state" {
  description = "Also preserve a snapshot of the directory and mailbox state with a request's logs (AMBER_LOG_AZURE_STATE): grants, apps, conditional access, MFA registration, every user's inbox rules and mailbox settings. Needs log_tenant_id and the Graph permissions in risk_state_graph_permissions."
  type        = bool
  default     = false
  validation {
    condition     = !var.preserve_azure_state || var.log_tenant_id != ""
    error_message = "preserve_azure_state needs log_tenant_id: the state snapshot reads a tenant's Microsoft Graph."
  }
}

variable "risk_state_graph_permissions" {
  description = "Microsoft Graph application permissions the risk and state pulls need beyond graph_application_permissions (README.md says why each); grant them only when preserve_entra_risk or preserve_azure_state is true."
  type        = list(string)
  default     = ["IdentityRiskEvent.Read.All", "IdentityRiskyUser.Read.All", "Policy.Read.All", "MailboxSettings.Read"]
}
