//! What a new version of a list changed: entities added, changed (their digest differs) and
//! removed. Ongoing monitoring screens approved people again against the added and changed
//! ones only; a reviewer's clearance of a changed entity no longer holds.

use std::collections::BTreeMap;

use crate::entity::Entity;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// `before`: the previous version's entity identifiers with their digests.
pub fn diff(before: &BTreeMap<String, String>, after: &[Entity]) -> Diff {
    let mut d = Diff::default();
    let mut now = BTreeMap::new();
    for e in after {
        let digest = e.digest();
        match before.get(&e.id) {
            None => d.added.push(e.id.clone()),
            Some(old) if *old != digest => d.changed.push(e.id.clone()),
            Some(_) => {}
        }
        now.insert(e.id.as_str(), ());
    }
    d.removed = before
        .keys()
        .filter(|id| !now.contains_key(id.as_str()))
        .cloned()
        .collect();
    d.added.sort();
    d.changed.sort();
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::{EntityKind, PartialDate, Topic};

    #[test]
    fn added_changed_and_removed() {
        let person = |id: &str, name: &str| {
            let mut e = Entity::new(id.into(), EntityKind::Person, Topic::Sanction);
            e.add_name(name);
            e
        };
        let v1 = [
            person("un:1", "A B"),
            person("un:2", "C D"),
            person("un:3", "E F"),
        ];
        let before: BTreeMap<String, String> =
            v1.iter().map(|e| (e.id.clone(), e.digest())).collect();
        let mut changed = person("un:2", "C D");
        changed.add_birth_date(PartialDate::year(1970));
        let v2 = [person("un:1", "A B"), changed, person("un:4", "G H")];
        let d = diff(&before, &v2);
        assert_eq!(d.added, ["un:4"]);
        assert_eq!(d.changed, ["un:2"]);
        assert_eq!(d.removed, ["un:3"]);
        assert!(diff(&before, &v1).is_empty());
    }
}
