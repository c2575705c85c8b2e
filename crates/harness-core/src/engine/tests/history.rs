//! The history's rows: where each one starts and what its reason says.

use super::*;

/// A service stopped while it is still starting was never running, and the
/// signal that ended it was harness's own: the history says both.
#[test]
fn a_stop_while_starting_reads_as_a_requested_stop_from_starting() {
    let mut r = Rig::new(STACK);
    let a = r.start(
        &["postgres"],
        StartOptions {
            no_wait: true,
            ..Default::default()
        },
    );
    r.confirm(&a);
    r.probe("postgres", false);
    let (service, run) = (r.idx("postgres"), r.run_of("postgres"));
    let stop = r.feed(Input::Stop {
        op: OpId(2),
        targets: vec![ServiceId(service)],
        options: StopOptions::default(),
    });
    assert!(stop.iter().any(|a| matches!(a, Action::Stop { .. })));
    r.feed(Input::Exited {
        service: ServiceId(service),
        run,
        end: ProcessEnd::Signaled(15),
    });
    let rows = transitions(&r, "postgres");
    assert_eq!(
        rows,
        [
            (
                "stopped".into(),
                "starting".into(),
                "start requested".into()
            ),
            (
                "starting".into(),
                "stopping".into(),
                "stop requested".into()
            ),
            (
                "stopping".into(),
                "stopped".into(),
                "stop requested; ended by SIGTERM".into()
            ),
        ]
    );
}

/// What ended a run harness was stopping, in the words of the request.
#[test]
fn the_end_of_a_requested_stop_names_the_signal_that_ended_it() {
    use crate::config::StopSignal;
    let why = |end| super::step::stopped_on_request(end, StopSignal::Int);
    assert_eq!(
        why(ProcessEnd::Signaled(2)),
        "stop requested; ended by SIGINT"
    );
    assert_eq!(
        why(ProcessEnd::Signaled(9)),
        "stop requested; ended by SIGKILL after SIGINT"
    );
    assert_eq!(
        why(ProcessEnd::Exited(0)),
        "stop requested; ended by exit code 0"
    );
    assert_eq!(
        why(ProcessEnd::Signaled(6)),
        "stop requested; ended by signal 6"
    );
}
