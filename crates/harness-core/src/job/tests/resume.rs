//! The resume plan: which steps run, which are skipped, and why.

use crate::job::resume::{Action, Completed, Planned, StartAt, StepNow, StepPrint, plan};

fn print(parts: &[(&str, &str)]) -> StepPrint {
    StepPrint {
        parts: parts
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Four steps as they are now: base (input versions.lock, output
/// cache/base.iso), kickstart, ansible, tests.
fn steps() -> Vec<StepNow> {
    let step = |name: &str, parts: &[(&str, &str)], outputs: &[(&str, Option<&str>)]| StepNow {
        name: name.into(),
        print: print(parts),
        outputs: outputs
            .iter()
            .map(|(p, h)| (p.to_string(), h.map(str::to_string)))
            .collect(),
    };
    vec![
        step(
            "base",
            &[("command", "c1"), ("input versions.lock", "l1")],
            &[("cache/base.iso", Some("iso1"))],
        ),
        step("kickstart", &[("command", "c2")], &[]),
        step("ansible", &[("command", "c3"), ("env PLAYBOOK", "p1")], &[]),
        step("tests", &[("command", "c4")], &[]),
    ]
}

/// How they completed: base and kickstart, as they are now.
fn done() -> Vec<Option<Completed>> {
    let now = steps();
    let completed = |s: &StepNow| Completed {
        print: s.print.clone(),
        outputs: s
            .outputs
            .iter()
            .map(|(p, h)| (p.clone(), h.clone().unwrap()))
            .collect(),
    };
    vec![
        Some(completed(&now[0])),
        Some(completed(&now[1])),
        None,
        None,
    ]
}

fn shown(p: &[Planned]) -> Vec<String> {
    p.iter()
        .map(|s| {
            let a = match s.action {
                Action::Skip => "skip",
                Action::Run => "run",
            };
            format!("{} {a}: {}", s.step, s.why)
        })
        .collect()
}

#[test]
fn a_run_resumes_at_the_first_step_not_up_to_date_and_runs_every_step_after_it() {
    assert_eq!(
        shown(&plan(&steps(), &done(), StartAt::Resume)),
        [
            "base skip: up to date",
            "kickstart skip: up to date",
            "ansible run: never completed",
            "tests run: an earlier step runs (ansible)",
        ]
    );
    // An input changed: base runs again, and so does everything after it.
    let mut now = steps();
    now[0].print = print(&[("command", "c1"), ("input versions.lock", "l2")]);
    assert_eq!(
        shown(&plan(&now, &done(), StartAt::Resume)),
        [
            "base run: input versions.lock changed",
            "kickstart run: an earlier step runs (base)",
            "ansible run: an earlier step runs (base)",
            "tests run: an earlier step runs (base)",
        ]
    );
}

#[test]
fn a_step_whose_output_is_gone_or_altered_runs_again() {
    let mut now = steps();
    now[0].outputs = vec![("cache/base.iso".into(), None)];
    assert_eq!(
        shown(&plan(&now, &done(), StartAt::Resume))[0],
        "base run: output cache/base.iso missing"
    );
    now[0].outputs = vec![("cache/base.iso".into(), Some("iso-edited".into()))];
    assert_eq!(
        shown(&plan(&now, &done(), StartAt::Resume))[0],
        "base run: output cache/base.iso changed since it was made"
    );
    // An output declared after the step completed was never checked.
    now[1].outputs = vec![("ks.log".into(), Some("k1".into()))];
    now[0] = steps().remove(0);
    assert_eq!(
        shown(&plan(&now, &done(), StartAt::Resume))[1],
        "kickstart run: output ks.log not recorded when it completed"
    );
}

#[test]
fn from_a_step_runs_it_and_what_follows_and_restart_runs_everything() {
    assert_eq!(
        shown(&plan(&steps(), &done(), StartAt::Step(1))),
        [
            "base skip: up to date",
            "kickstart run: --from kickstart",
            "ansible run: an earlier step runs (kickstart)",
            "tests run: an earlier step runs (kickstart)",
        ]
    );
    // A stale step before the one named still runs: its outputs cannot be
    // trusted.
    let mut now = steps();
    now[0].print = print(&[("command", "c1-edited"), ("input versions.lock", "l1")]);
    assert_eq!(
        shown(&plan(&now, &done(), StartAt::Step(2)))[..3],
        [
            "base run: command changed",
            "kickstart run: an earlier step runs (base)",
            "ansible run: --from ansible",
        ]
    );
    assert!(
        plan(&steps(), &done(), StartAt::First)
            .iter()
            .all(|p| p.action == Action::Run && p.why == "--restart")
    );
}

#[test]
fn a_print_names_what_was_added_changed_and_removed() {
    let then = print(&[("command", "a"), ("env A", "1"), ("input x", "h")]);
    let now = print(&[("command", "a"), ("env A", "2"), ("env B", "1")]);
    assert_eq!(
        now.changes_since(&then),
        ["env A changed", "env B added", "input x removed"]
    );
}

#[test]
fn a_step_that_needs_a_decision_is_passed_only_by_a_person() {
    use crate::job::resume::refused;
    let why = refused("needs_decision", "tests", StartAt::Resume).expect("refused");
    assert!(why.contains("--from tests"), "{why}");
    assert_eq!(refused("needs_decision", "tests", StartAt::Step(3)), None);
    assert_eq!(refused("needs_decision", "tests", StartAt::First), None);
    assert_eq!(refused("failed", "tests", StartAt::Resume), None);
}

#[test]
fn where_a_run_begins_is_named_by_flags_and_an_unknown_step_is_a_usage_error() {
    use crate::job::resume::start_at;
    let config = crate::config::parse(
        "jobs:\n  image:\n    steps:\n      - { name: base, command: b }\n      - { name: kickstart, command: k }\n",
        "services.yaml",
    )
    .unwrap();
    let job = &config.jobs[0];
    let cases: [(Option<&str>, bool, Result<StartAt, &str>); 5] = [
        (None, false, Ok(StartAt::Resume)),
        (None, true, Ok(StartAt::First)),
        (Some("kickstart"), false, Ok(StartAt::Step(1))),
        (
            Some("kikstart"),
            false,
            Err("job `image` has no step `kikstart`; its steps are: base, kickstart"),
        ),
        (
            Some("base"),
            true,
            Err("--from and --restart cannot be used together"),
        ),
    ];
    for (from, restart, want) in cases {
        assert_eq!(
            start_at(job, from, restart),
            want.map_err(str::to_string),
            "{from:?} {restart}"
        );
    }
    assert_eq!(StartAt::Step(1).label(job), "from kickstart");
    assert_eq!(
        crate::job::resume::unknown_job("imgae", &config),
        "unknown job `imgae`; jobs are: image"
    );
}

#[test]
fn a_plain_resume_goes_on_with_a_run_that_stopped_short_and_anything_else_begins_anew() {
    use crate::job::resume::continues;
    for (status, start, want) in [
        ("failed", StartAt::Resume, true),
        ("cancelled", StartAt::Resume, true),
        ("interrupted", StartAt::Resume, true),
        ("needs_decision", StartAt::Resume, true),
        ("completed", StartAt::Resume, false),
        ("failed", StartAt::Step(1), false),
        ("failed", StartAt::First, false),
    ] {
        assert_eq!(continues(status, start), want, "{status} {start:?}");
    }
}
