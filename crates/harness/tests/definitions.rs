//! A run whose definition the file no longer has is told apart: the state
//! check, `start`, `status` and `status --json` say what changed (never a
//! value), also after the daemon was killed and a new one re-attached.

mod common;
use common::*;

const BEFORE: &str = "services:\n  db:\n    command: sleep 1000\n    env: { PGPORT: \"pg-secret-one\" }\n  web:\n    command: sleep 1000\n";
const AFTER: &str = "services:\n  db:\n    command: sleep 1001\n    env: { PGPORT: \"pg-secret-two\" }\n  web:\n    command: sleep 1000\n";

#[test]
fn a_service_edited_in_place_is_never_used_without_a_word() {
    let s = Stack::new(BEFORE);
    assert_eq!(s.harness(&["start", "--all"]).code, 0);
    let pid = s.pid("db");
    std::fs::write(s.path().join("services.yaml"), AFTER).unwrap();

    let db = s.service("db");
    assert_eq!(
        db["changes"],
        serde_json::json!(["command changed", "env PGPORT changed"])
    );
    assert_eq!(
        db["notes"],
        "running an older definition: command changed, env PGPORT changed"
    );
    assert!(
        s.service("web").get("changes").is_none(),
        "web is as the file says"
    );
    let text = s.harness(&["status"]).stdout;
    assert!(
        text.contains(
            "harness deploy db   # Replace with the file's definition (kept only once healthy)"
        ),
        "{text}"
    );
    // Values are never shown, nor stored: not in the table, the JSON, the
    // history or the state file.
    let json = s.harness(&["status", "--json"]).stdout;
    let history = s.harness(&["status", "--history", "--json"]).stdout;
    let state: Vec<u8> = ["state.db", "state.db-wal"]
        .iter()
        .filter_map(|f| std::fs::read(s.path().join(".harness").join(f)).ok())
        .flatten()
        .collect();
    let state = String::from_utf8_lossy(&state);
    for secret in ["pg-secret-one", "pg-secret-two"] {
        for (what, out) in [("table", &text), ("json", &json), ("history", &history)] {
            assert!(!out.contains(secret), "{secret} in the {what}: {out}");
        }
        assert!(!state.contains(secret), "{secret} in state.db");
    }

    let r = s.harness(&["start", "--all"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("db           (already running, healthy; older definition: command changed, env PGPORT changed)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("using existing (healthy; running an older definition: command changed, env PGPORT changed)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Run the file's definition of db: harness deploy db"),
        "{}",
        r.stdout
    );
    assert_eq!(s.pid("db"), pid, "start used it as it is");

    // A new daemon knows what the run was spawned with.
    s.kill_daemon();
    assert_eq!(
        s.service("db")["changes"],
        serde_json::json!(["command changed", "env PGPORT changed"])
    );

    assert_eq!(s.harness(&["restart", "db"]).code, 0);
    let db = s.service("db");
    assert!(db.get("changes").is_none(), "{db}");
    assert_ne!(s.pid("db"), pid);
}
