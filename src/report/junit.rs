//! The gate's checks as a JUnit XML report (GitLab, Jenkins): one test case per check.

use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::error::Error;
use crate::gate::{GateReport, Status};

pub fn write(path: &Path, gate: &GateReport) -> Result<(), Error> {
    let mut report = Report::new("strata gate");
    let mut suite = TestSuite::new("strata gate");
    for c in &gate.checks {
        let status = match c.status {
            Status::Pass | Status::Warn => TestCaseStatus::success(),
            Status::Fail => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("{} is {} (limit {})", c.rule, c.actual, c.limit));
                s
            }
        };
        let mut case = TestCase::new(format!("{}: {}", c.scope, c.rule), status);
        case.set_classname("strata.gate");
        if c.status == Status::Warn {
            case.set_system_out(format!(
                "warning: {} is {} (limit {})",
                c.rule, c.actual, c.limit
            ));
        }
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    let xml = report
        .to_string()
        .map_err(|e| Error::malformed(path.display().to_string(), e.to_string()))?;
    std::fs::write(path, xml).map_err(|e| Error::io(path, e))
}
