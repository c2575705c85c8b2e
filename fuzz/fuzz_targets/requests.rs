//! Any body as any request the daemon decodes, and the checks a decoded
//! request goes through before it reaches the supervisor: never a panic.
#![no_main]

use harness_api::{
    Choice, DeployRequest, HealthRequest, JobDecideRequest, JobMarkRequest, JobRunRequest,
    PlanRequest, RollbackRequest, StartRequest, StopRequest,
};
use libfuzzer_sys::fuzz_target;

fn check_start(r: &StartRequest) {
    if let Some(secs) = r.timeout_secs {
        let _ = harness_core::duration::from_secs(secs);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = serde_json::from_slice::<StartRequest>(data) {
        check_start(&r);
    }
    if let Ok(r) = serde_json::from_slice::<PlanRequest>(data) {
        check_start(&r.start);
    }
    let _ = serde_json::from_slice::<StopRequest>(data);
    let _ = serde_json::from_slice::<HealthRequest>(data);
    let _ = serde_json::from_slice::<DeployRequest>(data);
    let _ = serde_json::from_slice::<RollbackRequest>(data);
    let _ = serde_json::from_slice::<Choice>(data);
    let _ = serde_json::from_slice::<JobRunRequest>(data);
    let _ = serde_json::from_slice::<JobDecideRequest>(data);
    let _ = serde_json::from_slice::<JobMarkRequest>(data);
});
