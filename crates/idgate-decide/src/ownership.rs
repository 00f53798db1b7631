//! A business's ownership and control structure and who its beneficial owners are.
//!
//! Nodes are the business itself (the root), the entities among its key parties and the
//! natural persons among them; a relation says what a party is to the business or to one of
//! those entities (a shareholding carries its share in millionths). Effective shares are
//! multiplied along every chain of holdings and added over chains, computed once per node in
//! topological order, so a graph of thousands of entities takes well under a millisecond
//! whatever the number of chains. [`Structure::check`] refuses what cannot be: a holding of
//! a person, shares of one entity over 100 %, a cycle of holdings.

use crate::business::Role;
use std::collections::HashMap;

/// 100 % in the unit shares are kept in (millionths), so that sums are exact.
pub const WHOLE: u32 = 1_000_000;

/// A key party: a natural person, or an entity of a kind from the policy's catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub id: String,
    /// `None` for a natural person.
    pub entity_kind: Option<String>,
}

impl Party {
    pub fn natural(&self) -> bool {
        self.entity_kind.is_none()
    }
}

/// What `party` is to `of` (`None`: the business itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relation {
    pub party: String,
    pub role: Role,
    pub of: Option<String>,
    /// A shareholder's share of `of`, in millionths; `None` for other roles.
    pub share: Option<u32>,
}

/// A business's structure as declared.
#[derive(Clone, Debug, Default)]
pub struct Structure {
    /// The business's own kind.
    pub kind: String,
    pub parties: Vec<Party>,
    pub relations: Vec<Relation>,
}

/// Why a structure cannot be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StructureError {
    #[error("party {0} is not a party of this business")]
    UnknownParty(String),
    #[error("{party} cannot be related to itself")]
    SelfRelation { party: String },
    #[error("only an entity has shareholders, trustees or directors; {0} is a natural person")]
    OfPerson(String),
    #[error("a shareholder needs a share above 0 and at most 100 %; other roles carry none")]
    Share,
    #[error("the shares declared in {entity} would add up to {} %, over 100 %", *.total as f64 / 10_000.0)]
    OverWhole { entity: String, total: u64 },
    #[error("holdings go round in a circle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
}

/// Why a person is a beneficial owner.
#[derive(Clone, Debug, PartialEq)]
pub enum Ground {
    /// Holds more than the threshold, directly or through other entities.
    Ownership,
    /// A party of a trust in the structure (`trust`: `None` when the business is the trust).
    TrustParty { role: Role, trust: Option<String> },
    /// Owns more than the threshold of an entity that is a party of a trust.
    BehindTrustParty {
        role: Role,
        trust: Option<String>,
        entity: String,
    },
    /// Nobody holds more than the threshold: a director of the business stands in.
    SeniorManagingOfficial,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BeneficialOwner {
    pub party: String,
    /// Effective share of the business, percent.
    pub percent: f64,
    /// Of which held directly, percent.
    pub direct_percent: f64,
    pub grounds: Vec<Ground>,
}

/// Shares of an entity in the structure that nobody is declared for, enough that an
/// undeclared holder could be a beneficial owner.
#[derive(Clone, Debug, PartialEq)]
pub struct Gap {
    /// `None`: the business itself.
    pub entity: Option<String>,
    pub undeclared_percent: f64,
    /// That part as a share of the business.
    pub effective_percent: f64,
}

/// The structure's beneficial owners and what is missing to know them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ownership {
    pub owners: Vec<BeneficialOwner>,
    pub gaps: Vec<Gap>,
    /// Roles the business's kind requires that no party holds.
    pub missing_roles: Vec<Role>,
}

impl Ownership {
    /// The beneficial owners are known: someone is named and nothing undeclared could hide
    /// another, and every required role is held.
    pub fn complete(&self) -> bool {
        !self.owners.is_empty() && self.gaps.is_empty() && self.missing_roles.is_empty()
    }
}

/// What the computation needs to know of the policy.
pub struct Rules<'a> {
    /// More than this share, in percent, makes a beneficial owner.
    pub threshold_percent: f64,
    /// Whether an entity kind declares its shareholders.
    pub declares_holdings: &'a dyn Fn(&str) -> bool,
    /// The roles the business's kind requires.
    pub required_roles: &'a [Role],
}

/// Node 0 is the business; node i + 1 is `parties[i]`.
struct Graph {
    natural: Vec<bool>,
    /// held → (holder, share in millionths)
    holders: Vec<Vec<(usize, u32)>>,
}

impl Structure {
    fn index(&self) -> HashMap<&str, usize> {
        self.parties
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i + 1))
            .collect()
    }

    fn name(&self, node: usize) -> String {
        match node {
            0 => "the business".to_string(),
            n => self.parties[n - 1].id.clone(),
        }
    }

    fn graph(&self) -> Result<Graph, StructureError> {
        let index = self.index();
        let n = self.parties.len() + 1;
        let mut natural = vec![false; n];
        for (i, p) in self.parties.iter().enumerate() {
            natural[i + 1] = p.natural();
        }
        let mut holders = vec![Vec::new(); n];
        let mut totals = vec![0u64; n];
        for r in &self.relations {
            let who = *index
                .get(r.party.as_str())
                .ok_or_else(|| StructureError::UnknownParty(r.party.clone()))?;
            let of = match &r.of {
                None => 0,
                Some(id) => *index
                    .get(id.as_str())
                    .ok_or_else(|| StructureError::UnknownParty(id.clone()))?,
            };
            if who == of {
                return Err(StructureError::SelfRelation {
                    party: r.party.clone(),
                });
            }
            if natural[of] {
                return Err(StructureError::OfPerson(self.name(of)));
            }
            match (r.role, r.share) {
                (Role::Shareholder, Some(s)) if s > 0 && s <= WHOLE => {
                    holders[of].push((who, s));
                    totals[of] += u64::from(s);
                    if totals[of] > u64::from(WHOLE) {
                        return Err(StructureError::OverWhole {
                            entity: self.name(of),
                            total: totals[of],
                        });
                    }
                }
                (Role::Shareholder, _) | (_, Some(_)) => return Err(StructureError::Share),
                _ => {}
            }
        }
        Ok(Graph { natural, holders })
    }

    /// Refuses a structure that cannot be (see [`StructureError`]).
    pub fn check(&self) -> Result<(), StructureError> {
        self.checked_graph().map(|_| ())
    }

    fn checked_graph(&self) -> Result<Graph, StructureError> {
        let g = self.graph()?;
        match g.cycle() {
            Some(nodes) => Err(StructureError::Cycle(
                nodes.into_iter().map(|n| self.name(n)).collect(),
            )),
            None => Ok(g),
        }
    }

    /// The beneficial owners (FATF's three steps: ownership over the threshold through any
    /// chain; every party of a trust, and whoever owns an entity that is one; a senior
    /// managing official when nobody else is found), the shares nobody is declared for and
    /// the roles nobody holds.
    pub fn beneficial_owners(&self, rules: &Rules) -> Result<Ownership, StructureError> {
        let g = self.checked_graph()?;
        let threshold = rules.threshold_percent / 100.0;
        let from_root = g.effective(0);
        let direct: HashMap<usize, u32> = g.holders[0].iter().copied().collect();
        let mut owners: Vec<BeneficialOwner> = Vec::new();
        let add = |node: usize, ground: Ground, owners: &mut Vec<BeneficialOwner>| {
            let id = self.name(node);
            match owners.iter_mut().find(|o| o.party == id) {
                Some(o) => o.grounds.push(ground),
                None => owners.push(BeneficialOwner {
                    party: id,
                    percent: from_root[node] * 100.0,
                    direct_percent: f64::from(direct.get(&node).copied().unwrap_or(0)) * 100.0
                        / f64::from(WHOLE),
                    grounds: vec![ground],
                }),
            }
        };
        for node in g.persons_over(&from_root, threshold) {
            add(node, Ground::Ownership, &mut owners);
        }
        // Trusts in the structure: the business itself, or an entity holding any of it.
        let index = self.index();
        let is_trust = |node: usize| match node {
            0 => self.kind == "trust",
            n => self.parties[n - 1].entity_kind.as_deref() == Some("trust"),
        };
        for r in &self.relations {
            if !r.role.of_trust() {
                continue;
            }
            let trust = r.of.as_ref().map_or(0, |id| index[id.as_str()]);
            if !is_trust(trust) || (trust != 0 && from_root[trust] <= 0.0) {
                continue;
            }
            let party = index[r.party.as_str()];
            let trust_id = r.of.clone();
            if g.natural[party] {
                add(
                    party,
                    Ground::TrustParty {
                        role: r.role,
                        trust: trust_id,
                    },
                    &mut owners,
                );
            } else {
                let behind = g.effective(party);
                for node in g.persons_over(&behind, threshold) {
                    add(
                        node,
                        Ground::BehindTrustParty {
                            role: r.role,
                            trust: trust_id.clone(),
                            entity: r.party.clone(),
                        },
                        &mut owners,
                    );
                }
            }
        }
        let mut gaps = Vec::new();
        for (node, &share) in from_root.iter().enumerate() {
            let kind = match node {
                0 => Some(self.kind.as_str()),
                n => self.parties[n - 1].entity_kind.as_deref(),
            };
            let Some(kind) = kind else { continue };
            if share <= 0.0 || !(rules.declares_holdings)(kind) {
                continue;
            }
            let declared: u64 = g.holders[node].iter().map(|&(_, s)| u64::from(s)).sum();
            let undeclared = f64::from(WHOLE - declared as u32) / f64::from(WHOLE);
            if undeclared * share > threshold + 1e-12 {
                gaps.push(Gap {
                    entity: (node != 0).then(|| self.name(node)),
                    undeclared_percent: undeclared * 100.0,
                    effective_percent: undeclared * share * 100.0,
                });
            }
        }
        if owners.is_empty() {
            for r in &self.relations {
                if r.role == Role::Director && r.of.is_none() {
                    let party = index[r.party.as_str()];
                    if g.natural[party] {
                        add(party, Ground::SeniorManagingOfficial, &mut owners);
                    }
                }
            }
        }
        owners.sort_by(|a, b| {
            b.percent
                .total_cmp(&a.percent)
                .then_with(|| a.party.cmp(&b.party))
        });
        let missing_roles = rules
            .required_roles
            .iter()
            .copied()
            .filter(|role| {
                !self
                    .relations
                    .iter()
                    .any(|r| r.role == *role && r.of.is_none())
            })
            .collect();
        Ok(Ownership {
            owners,
            gaps,
            missing_roles,
        })
    }
}

impl Graph {
    /// The natural persons whose share in `shares` is more than `threshold` (a fraction).
    fn persons_over<'a>(
        &'a self,
        shares: &'a [f64],
        threshold: f64,
    ) -> impl Iterator<Item = usize> + 'a {
        shares
            .iter()
            .zip(&self.natural)
            .enumerate()
            .filter(move |&(_, (&s, &natural))| natural && s > threshold + 1e-12)
            .map(|(node, _)| node)
    }

    /// A circle of holdings, if there is one (iterative depth-first search).
    fn cycle(&self) -> Option<Vec<usize>> {
        const NEW: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let n = self.holders.len();
        let mut state = vec![NEW; n];
        for start in 0..n {
            if state[start] != NEW {
                continue;
            }
            let mut path: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = OPEN;
            while let Some(&mut (node, ref mut next)) = path.last_mut() {
                if let Some(&(holder, _)) = self.holders[node].get(*next) {
                    *next += 1;
                    match state[holder] {
                        NEW => {
                            state[holder] = OPEN;
                            path.push((holder, 0));
                        }
                        OPEN => {
                            let from = path.iter().position(|&(p, _)| p == holder)?;
                            let mut circle: Vec<usize> =
                                path[from..].iter().map(|&(p, _)| p).collect();
                            circle.push(holder);
                            // Written in the direction shares flow: holder → held.
                            circle.reverse();
                            return Some(circle);
                        }
                        _ => {}
                    }
                } else {
                    state[node] = DONE;
                    path.pop();
                }
            }
        }
        None
    }

    /// Every node's effective share (fraction) of `root`, summed over every chain of
    /// holdings: nodes in topological order from the root (Kahn's algorithm over the part
    /// the root reaches), each passing its share on to its holders. The graph is acyclic.
    fn effective(&self, root: usize) -> Vec<f64> {
        let n = self.holders.len();
        let mut reached = vec![false; n];
        let mut stack = vec![root];
        reached[root] = true;
        let mut indegree = vec![0u32; n];
        while let Some(node) = stack.pop() {
            for &(holder, _) in &self.holders[node] {
                indegree[holder] += 1;
                if !reached[holder] {
                    reached[holder] = true;
                    stack.push(holder);
                }
            }
        }
        let mut share = vec![0.0f64; n];
        share[root] = 1.0;
        let mut ready = vec![root];
        while let Some(node) = ready.pop() {
            for &(holder, s) in &self.holders[node] {
                share[holder] += share[node] * f64::from(s) / f64::from(WHOLE);
                indegree[holder] -= 1;
                if indegree[holder] == 0 {
                    ready.push(holder);
                }
            }
        }
        share
    }
}

#[cfg(test)]
mod tests;
