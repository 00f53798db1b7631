//! The photo checks of every document side: findings per side, and the first valid MRZ.

use crate::edges::{DocumentChecker, EngineError};
use crate::evidence::{side_seen, SideSeen};
use idgate_core::ReasonCode;
use idgate_decide::{Extracted, Finding, Policy, Side};
use idgate_mrz::{Format, Mrz};
use idgate_vision::check::CheckOptions;

/// Is the MRZ's name field filled to its last character (so possibly truncated)?
fn name_field_full(m: &Mrz) -> bool {
    let line = match m.format {
        Format::Td1 => m.lines.get(2),
        _ => m.lines.first(),
    };
    line.and_then(|l| l.chars().last())
        .is_some_and(|c| c != '<')
}

const MRZ_CODES: [ReasonCode; 2] = [ReasonCode::MrzUnreadable, ReasonCode::MrzInvalid];

/// Photo checks on every side (side name, image bytes): findings per side, and the first
/// valid MRZ of any side. An image that cannot be read is a finding (upload another); an
/// engine that cannot run is an error. CPU-bound: the service runs it off the async threads.
pub fn check_sides(
    policy: &Policy,
    checker: &dyn DocumentChecker,
    check: &CheckOptions,
    images: &[(Side, Vec<u8>)],
    needs_mrz: bool,
) -> Result<(Vec<Finding>, Extracted), EngineError> {
    check_sides_seen(policy, checker, check, images, needs_mrz).map(|(checked, _)| checked)
}

/// The findings and extraction of [`check_sides`], and what each readable side's check saw.
pub type SidesSeen = ((Vec<Finding>, Extracted), Vec<SideSeen>);

/// [`check_sides`], with what each readable side's check saw (for the reviewer).
pub fn check_sides_seen(
    policy: &Policy,
    checker: &dyn DocumentChecker,
    check: &CheckOptions,
    images: &[(Side, Vec<u8>)],
    needs_mrz: bool,
) -> Result<SidesSeen, EngineError> {
    let mut seen = Vec::new();
    let mut findings = Vec::new();
    let mut mrz_findings = Vec::new();
    let mut ex = Extracted::default();
    for (side, bytes) in images {
        ex.sides.push(*side);
        let report = match checker.check(bytes, check) {
            Ok(r) => r,
            Err(EngineError::Input(e)) => {
                // An image that cannot be read is one to upload again, not a crash.
                let code = ReasonCode::NoDocumentFound;
                findings.push(
                    Finding::new(code, policy.reject_type(code), format!("{}: {e}", e.code()))
                        .about(format!("side:{side}")),
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        seen.push(side_seen(*side, &report));
        if let Some(m) = report
            .mrz
            .as_ref()
            .and_then(|r| r.parsed.as_ref())
            .filter(|m| m.valid())
        {
            if ex.mrz.is_none() {
                ex.mrz_name_full = name_field_full(m);
                ex.mrz = Some(m.fields.clone());
            }
        }
        for f in report.findings {
            let finding = Finding::new(
                f.code,
                policy.reject_type(f.code),
                crate::record::photo_detail_json(&f.detail).to_string(),
            )
            .about(format!("side:{side}"));
            if MRZ_CODES.contains(&f.code) {
                mrz_findings.push(finding);
            } else {
                findings.push(finding);
            }
        }
    }
    // The MRZ is on one side only (a card's back, a passport's photo page): a side without
    // one is not a failure, and a kind without an MRZ never asks for one.
    if needs_mrz && ex.mrz.is_none() {
        findings.extend(mrz_findings);
    }
    Ok(((findings, ex), seen))
}
