# The detection tables: BigQuery external tables over the rows the deriveObject function writes into the locker
# (newline-delimited JSON, one folder per table, hive-partitioned by case, account and day:
# derived/<table>/case=<case>/account=<project|subscription|tenant|account>/day=<yyyy-mm-dd>/<item>.ndjson), one per
# log source Amber parses (schemas/, made by npm run build:bigquery-schemas from the sources' columns). The
# detections' query.bigquery.sql read them by the names Athena and DuckDB use. Every query must filter on a
# partition (require_partition_filter): runDetections limits each table to the days of its window.
locals {
  tables = { for f in fileset("${path.module}/schemas", "*.json") : trimsuffix(f, ".json") => "schemas/${f}" }
}

resource "google_bigquery_dataset" "amber" {
  project                    = var.project_id
  dataset_id                 = replace("${var.name_prefix}_evidence", "-", "_")
  location                   = var.location
  delete_contents_on_destroy = false

  default_encryption_configuration {
    kms_key_name = google_kms_crypto_key.evidence.id
  }

  depends_on = [google_kms_crypto_key_iam_member.bq_uses_key]
}

resource "google_bigquery_table" "sources" {
  for_each            = local.tables
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.amber.dataset_id
  table_id            = each.key
  deletion_protection = true

  external_data_configuration {
    source_format         = "NEWLINE_DELIMITED_JSON"
    autodetect            = false
    ignore_unknown_values = false
    source_uris           = ["gs://${google_storage_bucket.evidence.name}/derived/${each.key}/*"]
    schema                = file("${path.module}/${each.value}")

    hive_partitioning_options {
      mode                     = "CUSTOM"
      source_uri_prefix        = "gs://${google_storage_bucket.evidence.name}/derived/${each.key}/{case:STRING}/{account:STRING}/{day:STRING}"
      require_partition_filter = true
    }
  }
}
