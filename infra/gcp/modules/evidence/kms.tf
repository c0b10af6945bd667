# Customer-managed key of the evidence bucket and dataset, rotated every 90 days. Google's storage and BigQuery
# service agents may use it (encrypt/decrypt only); nobody else is granted anything on it here.
resource "google_kms_key_ring" "evidence" {
  project  = var.project_id
  name     = "${var.name_prefix}-evidence"
  location = var.location == "EU" ? "europe" : var.location == "US" ? "us" : lower(var.location)
}

resource "google_kms_crypto_key" "evidence" {
  name            = "${var.name_prefix}-evidence"
  key_ring        = google_kms_key_ring.evidence.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = "7776000s"

  lifecycle {
    prevent_destroy = true
  }
}

data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

data "google_bigquery_default_service_account" "bq" {
  project = var.project_id
}

resource "google_kms_crypto_key_iam_member" "gcs_uses_key" {
  crypto_key_id = google_kms_crypto_key.evidence.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

resource "google_kms_crypto_key_iam_member" "bq_uses_key" {
  crypto_key_id = google_kms_crypto_key.evidence.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_bigquery_default_service_account.bq.email}"
}
