//! Beneficial owners of a business whose ownership graph has 1,000 entities and 5,000
//! holdings (issue #27's goal: under 10 ms), beside a baseline measured in the same run:
//! one pass that only reads the same relations into an index of parties and sums each
//! entity's declared shares, the least any computation over the graph must do.
//!
//! The graph is generated deterministically (fixed seed): entity `i` is held by entities
//! after it and by 2,000 natural persons, five holders each, shares adding up to at most
//! 100 %, so chains run up to hundreds of levels deep and cross each other everywhere.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use idgate_decide::business::Role;
use idgate_decide::ownership::{Party, Relation, Rules, Structure, WHOLE};
use std::collections::HashMap;

const ENTITIES: usize = 1000;
const PERSONS: usize = 2000;
const HOLDERS_EACH: usize = 5;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn structure() -> Structure {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parties: Vec<Party> = (0..ENTITIES)
        .map(|i| Party {
            id: format!("entity-{i}"),
            entity_kind: Some("private_company".into()),
        })
        .collect();
    parties.extend((0..PERSONS).map(|i| Party {
        id: format!("person-{i}"),
        entity_kind: None,
    }));
    let mut relations = Vec::new();
    // The business (entity index -1) and every entity but the last get five holders.
    for held in -1..(ENTITIES as i64 - 1) {
        let mut left = WHOLE;
        let mut taken = Vec::new();
        for _ in 0..HOLDERS_EACH {
            let holder = loop {
                let h = if rng.below(3) == 0 {
                    let first = (held + 1) as usize;
                    let span = (ENTITIES - first).min(40);
                    format!("entity-{}", first + rng.below(span))
                } else {
                    format!("person-{}", rng.below(PERSONS))
                };
                if !taken.contains(&h) {
                    break h;
                }
            };
            let share = (left / 3).max(1);
            left -= share;
            taken.push(holder.clone());
            relations.push(Relation {
                party: holder,
                role: Role::Shareholder,
                of: (held >= 0).then(|| format!("entity-{held}")),
                share: Some(share),
            });
        }
    }
    relations.push(Relation {
        party: "person-0".into(),
        role: Role::Director,
        of: None,
        share: None,
    });
    Structure {
        kind: "private_company".into(),
        parties,
        relations,
    }
}

fn baseline(s: &Structure) -> u64 {
    let index: HashMap<&str, usize> = s
        .parties
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let mut totals = vec![0u64; s.parties.len() + 1];
    for r in &s.relations {
        let of = r.of.as_deref().map_or(0, |id| index[id] + 1);
        totals[of] += u64::from(r.share.unwrap_or(0));
        black_box(index[r.party.as_str()]);
    }
    totals.iter().sum()
}

fn bench(c: &mut Criterion) {
    let s = structure();
    let holdings = s.relations.iter().filter(|r| r.share.is_some()).count();
    assert!(holdings >= 5000, "{holdings} holdings");
    let declares = |kind: &str| kind == "private_company";
    let rules = Rules {
        threshold_percent: 25.0,
        declares_holdings: &declares,
        required_roles: &[Role::Director],
    };
    let o = s
        .beneficial_owners(&rules)
        .expect("the generated graph is valid");
    eprintln!(
        "{} entities, {holdings} holdings: {} beneficial owners, {} gaps",
        ENTITIES,
        o.owners.len(),
        o.gaps.len()
    );
    let mut g = c.benchmark_group("ownership");
    g.bench_function("beneficial_owners", |b| {
        b.iter(|| black_box(s.beneficial_owners(black_box(&rules)).unwrap()))
    });
    g.bench_function("baseline_read_relations", |b| {
        b.iter(|| black_box(baseline(black_box(&s))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
