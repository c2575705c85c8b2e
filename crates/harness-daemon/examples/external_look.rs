//! The cost of looking for services harness did not start
//! (`bash bench/run.sh external`): 100 services, each with a tcp readiness
//! check on a port nothing listens on — what every state check will pay
//! on a stack with nothing external — and then the same with one of them
//! listening outside harness (a socket this process holds), when the
//! processes are read too.

use harness_core::config::parse;
use std::time::Instant;

fn main() {
    let base = 42000;
    let mut yaml = String::from("services:\n");
    for i in 0..100 {
        yaml.push_str(&format!(
            "  s{i:03}:\n    command: x\n    health_check: {{ tcp: \"127.0.0.1:{}\" }}\n",
            base + i
        ));
    }
    let config = parse(&yaml, "services.yaml").expect("a valid file");
    let services: Vec<_> = config.services.iter().collect();
    let root = std::env::temp_dir();
    let measure = |what: &str| {
        let runs = 200;
        let t = Instant::now();
        let mut found = 0;
        for _ in 0..runs {
            let seen = harness_daemon::external_scan::look(&root, &services, &[]);
            found = services
                .iter()
                .filter(|s| harness_core::external::find(s, &seen).is_some())
                .count();
        }
        let each = t.elapsed().as_secs_f64() * 1e3 / runs as f64;
        println!("{what}: {each:.3} ms per look (mean of {runs}); external found: {found}");
    };
    measure("100 services, nothing external");
    let _held = std::net::TcpListener::bind(("127.0.0.1", base as u16 + 7));
    measure("100 services, one port listening outside harness");
}
