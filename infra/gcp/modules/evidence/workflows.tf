# Long work runs in Workflows: the instance workflow takes the project's inventory first (a failure there is
# recorded in the ledger by the function and does not stop the preservation), then calls the step functions with
# OIDC tokens and sleeps between snapshot checks (sys.sleep), so no function waits; once the snapshots are READY it
# copies them into the evidence project and waits on the copies the same way. The logs workflow calls preserveLogs again while it answers
# done: false (a bounded number of pages per call) and sleeps while the window has not settled.
resource "google_workflows_workflow" "instance" {
  project         = var.project_id
  region          = var.region
  name            = "${var.name_prefix}-instance"
  service_account = google_service_account.workflow.id
  call_log_level  = "LOG_ERRORS_ONLY"
  source_contents = templatefile("${path.module}/workflows/instance.yaml", {
    inventory_url = google_cloudfunctions2_function.fn["inventoryProject"].service_config[0].uri
    capture_url   = google_cloudfunctions2_function.fn["captureInstance"].service_config[0].uri
    snapshot_url  = google_cloudfunctions2_function.fn["createSnapshots"].service_config[0].uri
    check_url     = google_cloudfunctions2_function.fn["checkSnapshots"].service_config[0].uri
    copy_url      = google_cloudfunctions2_function.fn["copySnapshots"].service_config[0].uri
    isolate_url   = google_cloudfunctions2_function.fn["isolateInstance"].service_config[0].uri
  })
}

resource "google_workflows_workflow" "logs" {
  project         = var.project_id
  region          = var.region
  name            = "${var.name_prefix}-logs"
  service_account = google_service_account.workflow.id
  call_log_level  = "LOG_ERRORS_ONLY"
  source_contents = templatefile("${path.module}/workflows/logs.yaml", {
    preserve_url = google_cloudfunctions2_function.fn["preserveLogs"].service_config[0].uri
  })
}
