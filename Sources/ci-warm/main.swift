// ci-warm: every ccci-* command in one executable, which runs the command it was called as (the
// last component of argv[0]), as busybox does. `ccci-snap` and the others are links to it.
import CCCICore
import ccci_alert
import ccci_app
import ccci_canon
import ccci_gate
import ccci_health
import ccci_lock
import ccci_migrate
import ccci_promote
import ccci_realm
import ccci_restore
import ccci_snap
import ccci_trigger

let table: [String: () -> Never] = [
    "ccci-alert": ccci_alert.main, "ccci-app": ccci_app.main, "ccci-canon": ccci_canon.main, "ccci-gate": ccci_gate.main,
    "ccci-health": ccci_health.main, "ccci-lock": ccci_lock.main, "ccci-migrate": ccci_migrate.main,
    "ccci-promote": ccci_promote.main, "ccci-realm": ccci_realm.main, "ccci-restore": ccci_restore.main,
    "ccci-snap": ccci_snap.main, "ccci-trigger": ccci_trigger.main,
]

let called = String(CommandLine.arguments.first?.split(separator: "/").last ?? "")
if let command = table[called] { command() }
Command("ci-warm", summary: "every ccci-* command in one executable").fail(Failure.usage(
    "called as '\(called)': run it through a link named after a command (\(table.keys.sorted().joined(separator: ", ")))"))
