//! The dependency graph of a config: who needs whom, in which order.

use crate::config::{Condition, Config};

/// Service indices follow the config's file order.
#[derive(Debug, Clone)]
pub struct Graph {
    names: Vec<String>,
    deps: Vec<Vec<(usize, Condition)>>,
    dependents: Vec<Vec<usize>>,
    /// The jobs each service waits for (`condition: completed`).
    job_deps: Vec<Vec<String>>,
}

impl Graph {
    /// Builds the graph. Unknown dependency names are skipped (validation
    /// reports them before a graph is ever used for planning).
    pub fn new(config: &Config) -> Self {
        let names: Vec<String> = config.names().map(str::to_string).collect();
        let index = |n: &str| names.iter().position(|x| x == n);
        let mut deps = vec![Vec::new(); names.len()];
        let mut dependents = vec![Vec::new(); names.len()];
        let mut job_deps = vec![Vec::new(); names.len()];
        for (i, svc) in config.services.iter().enumerate() {
            for d in &svc.depends_on {
                if let Some(j) = index(&d.name) {
                    deps[i].push((j, d.condition));
                    dependents[j].push(i);
                } else if config.jobs.iter().any(|j| j.name == d.name) {
                    job_deps[i].push(d.name.clone());
                }
            }
        }
        Graph {
            names,
            deps,
            dependents,
            job_deps,
        }
    }

    /// Number of services.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no services.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Name of service `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// Index of the service called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The jobs service `i` waits for: each must have completed (and be
    /// up to date) before it starts.
    pub fn job_deps(&self, i: usize) -> &[String] {
        &self.job_deps[i]
    }

    /// Direct dependencies of `i`, with their conditions.
    pub fn deps(&self, i: usize) -> &[(usize, Condition)] {
        &self.deps[i]
    }

    /// Services that depend directly on `i`.
    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.dependents[i]
    }

    /// `roots` and everything they depend on, transitively, in file order.
    pub fn with_dependencies(&self, roots: &[usize]) -> Vec<usize> {
        self.reach(roots, |i| self.deps[i].iter().map(|d| d.0).collect())
    }

    /// `roots` and everything that depends on them, transitively.
    pub fn with_dependents(&self, roots: &[usize]) -> Vec<usize> {
        self.reach(roots, |i| self.dependents[i].clone())
    }

    fn reach(&self, roots: &[usize], next: impl Fn(usize) -> Vec<usize>) -> Vec<usize> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<usize> = roots.to_vec();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(next(i));
            }
        }
        (0..self.len()).filter(|&i| seen[i]).collect()
    }

    /// A dependency cycle, as the services along it (`a` depends on `b`
    /// depends on … depends on `a`), if there is one.
    pub fn find_cycle(&self) -> Option<Vec<usize>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Visit {
            New,
            Open,
            Done,
        }
        fn visit(
            g: &Graph,
            i: usize,
            marks: &mut [Visit],
            path: &mut Vec<usize>,
        ) -> Option<Vec<usize>> {
            marks[i] = Visit::Open;
            path.push(i);
            for &(j, _) in &g.deps[i] {
                match marks[j] {
                    Visit::Open => {
                        let start = path.iter().position(|&p| p == j).unwrap_or(0);
                        return Some(path[start..].to_vec());
                    }
                    Visit::New => {
                        if let Some(c) = visit(g, j, marks, path) {
                            return Some(c);
                        }
                    }
                    Visit::Done => {}
                }
            }
            path.pop();
            marks[i] = Visit::Done;
            None
        }
        let mut marks = vec![Visit::New; self.len()];
        (0..self.len()).find_map(|i| {
            if marks[i] == Visit::New {
                visit(self, i, &mut marks, &mut Vec::new())
            } else {
                None
            }
        })
    }
}
