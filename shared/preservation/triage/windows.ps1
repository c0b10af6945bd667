# Amber volatile triage (Windows). Read-only: prints what is lost when the instance stops. Every section is
# framed by "=== amber-section NAME begin ===" and "=== amber-section NAME end rc=N ===" lines so the output
# parses even when a command fails (its error goes into the section, the rest goes on).
$ErrorActionPreference = 'Continue'
function Section([string]$Name, [scriptblock]$Body) {
  "=== amber-section $Name begin ==="
  $rc = 0
  try { & $Body 2>&1 | Out-String -Width 4096 } catch { $_ | Out-String; $rc = 1 }
  "=== amber-section $Name end rc=$rc ==="
}
Section 'host' { "hostname: $env:COMPUTERNAME"; "utc: $((Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ'))"; Get-CimInstance Win32_OperatingSystem | Select-Object Caption, Version, LastBootUpTime }
Section 'processes' { Get-CimInstance Win32_Process | Select-Object ProcessId, ParentProcessId, CreationDate, ExecutablePath, CommandLine | Format-List }
Section 'process-executables' {
  Get-Process | Where-Object { $_.Path } | ForEach-Object {
    $h = (Get-FileHash -Algorithm SHA256 -LiteralPath $_.Path -ErrorAction SilentlyContinue).Hash
    "{0}`t{1}`t{2}" -f $_.Id, ($(if ($h) { $h.ToLower() } else { '-' })), $_.Path
  }
}
Section 'network' { Get-NetTCPConnection | Select-Object LocalAddress, LocalPort, RemoteAddress, RemotePort, State, OwningProcess | Format-Table -AutoSize; Get-NetUDPEndpoint | Format-Table -AutoSize }
Section 'users' { quser 2>&1 }
Section 'scheduled' { Get-ScheduledTask | ForEach-Object { $_.TaskPath + $_.TaskName + "`t" + $_.State + "`t" + (($_.Actions | ForEach-Object { $_.Execute + ' ' + $_.Arguments }) -join '; ') } }
Section 'histories' {
  Get-ChildItem -Path 'C:\Users\*\AppData\Roaming\Microsoft\Windows\PowerShell\PSReadLine\ConsoleHost_history.txt' -ErrorAction SilentlyContinue | ForEach-Object {
    "--- $($_.FullName) sha256 $((Get-FileHash -Algorithm SHA256 -LiteralPath $_.FullName).Hash.ToLower())"
    Get-Content -LiteralPath $_.FullName
  }
}
Section 'kernel-modules' { Get-CimInstance Win32_SystemDriver | Select-Object Name, State, PathName | Format-Table -AutoSize }
"=== amber-triage complete ==="
