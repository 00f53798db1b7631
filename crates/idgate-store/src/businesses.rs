//! Business applicants (KYB): the organisation as declared, its key parties (people, each
//! an applicant of their own, and entities) and the relations between them (roles, and
//! shareholdings in millionths). A relation is added under a lock on its business, after
//! the caller's check of the whole structure with it, so that two requests at once cannot
//! together build what neither alone was allowed to (a cycle, shares over 100 %).

use crate::db::{new_id, Store};
use crate::error::StoreError;
use idgate_core::BusinessStatus;
use sqlx::{AnyConnection, Row};

/// What a business declared about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessData {
    /// The platform's own reference for the business.
    pub uid: String,
    /// An entity kind from the policy's catalogue.
    pub kind: String,
    pub legal_name: String,
    pub registration_number: String,
    /// ISO 3166-1 alpha-2, or ISO 3166-2 where registries are per subdivision.
    pub jurisdiction: String,
    /// YYYY-MM-DD.
    pub incorporated_on: String,
    pub registered_address: String,
    pub operating_address: Option<String>,
    pub tax_number: Option<String>,
    pub lei: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Business {
    pub id: String,
    pub data: BusinessData,
    pub status: BusinessStatus,
    /// The latest evaluation's findings, as the server rendered them (JSON).
    pub findings: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An entity among the key parties (a holding company, a corporate trustee, a fund
/// manager).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityParty {
    pub kind: String,
    pub name: String,
    pub registration_number: String,
    pub jurisdiction: String,
}

/// A key party: a person (`applicant_id`, with what the business declared about them in
/// the sealed `declared_blob`) or an entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessParty {
    pub id: String,
    pub business_id: String,
    pub applicant_id: Option<String>,
    pub declared_blob: Option<String>,
    pub entity: Option<EntityParty>,
    pub created_at: i64,
}

/// A party to add.
#[derive(Clone, Debug)]
pub enum NewParty {
    Person {
        applicant_id: String,
        declared_blob: String,
    },
    Entity(EntityParty),
}

/// What `party_id` is to `of_party_id` (`None`: the business itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessRelation {
    pub id: String,
    pub business_id: String,
    pub party_id: String,
    pub role: String,
    pub of_party_id: Option<String>,
    /// A shareholding's share, in millionths.
    pub share_ppm: Option<i64>,
    pub created_at: i64,
}

pub(crate) const BUSINESS: &str = "id, uid, kind, legal_name, registration_number, jurisdiction, \
    incorporated_on, registered_address, operating_address, tax_number, lei, created_at, \
    updated_at, status, findings";
const PARTY: &str = "id, business_id, applicant_id, declared_blob, entity_kind, entity_name, \
    entity_registration_number, entity_jurisdiction, created_at";
const RELATION: &str = "id, business_id, party_id, role, of_party_id, share_ppm, created_at";

pub(crate) fn business_from(r: &sqlx::any::AnyRow) -> Result<Business, StoreError> {
    Ok(Business {
        id: r.try_get("id")?,
        data: BusinessData {
            uid: r.try_get("uid")?,
            kind: r.try_get("kind")?,
            legal_name: r.try_get("legal_name")?,
            registration_number: r.try_get("registration_number")?,
            jurisdiction: r.try_get("jurisdiction")?,
            incorporated_on: r.try_get("incorporated_on")?,
            registered_address: r.try_get("registered_address")?,
            operating_address: r.try_get("operating_address")?,
            tax_number: r.try_get("tax_number")?,
            lei: r.try_get("lei")?,
        },
        status: {
            let st: String = r.try_get("status")?;
            BusinessStatus::parse(&st)
                .ok_or_else(|| StoreError::Corrupt(format!("business status {st}")))?
        },
        findings: r.try_get("findings")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn party_from(r: &sqlx::any::AnyRow) -> Result<BusinessParty, StoreError> {
    let kind: Option<String> = r.try_get("entity_kind")?;
    let entity = match kind {
        None => None,
        Some(kind) => Some(EntityParty {
            kind,
            name: r
                .try_get::<Option<String>, _>("entity_name")?
                .unwrap_or_default(),
            registration_number: r
                .try_get::<Option<String>, _>("entity_registration_number")?
                .unwrap_or_default(),
            jurisdiction: r
                .try_get::<Option<String>, _>("entity_jurisdiction")?
                .unwrap_or_default(),
        }),
    };
    Ok(BusinessParty {
        id: r.try_get("id")?,
        business_id: r.try_get("business_id")?,
        applicant_id: r.try_get("applicant_id")?,
        declared_blob: r.try_get("declared_blob")?,
        entity,
        created_at: r.try_get("created_at")?,
    })
}

fn relation_from(r: &sqlx::any::AnyRow) -> Result<BusinessRelation, StoreError> {
    Ok(BusinessRelation {
        id: r.try_get("id")?,
        business_id: r.try_get("business_id")?,
        party_id: r.try_get("party_id")?,
        role: r.try_get("role")?,
        of_party_id: r.try_get("of_party_id")?,
        share_ppm: r.try_get("share_ppm")?,
        created_at: r.try_get("created_at")?,
    })
}

async fn parties_in(
    conn: &mut AnyConnection,
    business_id: &str,
) -> Result<Vec<BusinessParty>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {PARTY} FROM business_parties WHERE business_id = $1 ORDER BY seq"
    ))
    .bind(business_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(party_from).collect()
}

async fn relations_in(
    conn: &mut AnyConnection,
    business_id: &str,
) -> Result<Vec<BusinessRelation>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {RELATION} FROM business_relations WHERE business_id = $1 ORDER BY seq"
    ))
    .bind(business_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(relation_from).collect()
}

/// Touches the business's row inside `conn`'s transaction: on PostgreSQL the row lock
/// queues every other writer of the same business behind this one (SQLite has one writer).
/// Answers its status as locked.
pub(crate) async fn lock_business(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<BusinessStatus, StoreError> {
    let done = sqlx::query("UPDATE businesses SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound { what: "business" });
    }
    let st: String = sqlx::query_scalar("SELECT status FROM businesses WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?;
    BusinessStatus::parse(&st).ok_or_else(|| StoreError::Corrupt(format!("business status {st}")))
}

/// [`lock_business`] for a change the business makes to what it declared: only while it
/// is a draft or asked to resubmit.
pub(crate) async fn lock_editable(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    if lock_business(conn, id, now).await?.editable() {
        Ok(())
    } else {
        Err(StoreError::Conflict(
            "the business is submitted: its documents, parties and relations change only \
             when a resubmission is requested",
        ))
    }
}

fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// A new business; its `uid` names one business only.
    pub async fn create_business(&self, data: BusinessData) -> Result<Business, StoreError> {
        let now = self.now();
        let b = Business {
            id: new_id(),
            data,
            status: BusinessStatus::Draft,
            findings: "[]".into(),
            created_at: now,
            updated_at: now,
        };
        let d = &b.data;
        sqlx::query(&format!(
            "INSERT INTO businesses ({BUSINESS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(&b.id)
        .bind(&d.uid)
        .bind(&d.kind)
        .bind(&d.legal_name)
        .bind(&d.registration_number)
        .bind(&d.jurisdiction)
        .bind(&d.incorporated_on)
        .bind(&d.registered_address)
        .bind(&d.operating_address)
        .bind(&d.tax_number)
        .bind(&d.lei)
        .bind(b.created_at)
        .bind(b.updated_at)
        .bind(b.status.as_str())
        .bind(&b.findings)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if unique_violation(&e) {
                StoreError::Conflict("a business with this uid already exists")
            } else {
                e.into()
            }
        })?;
        Ok(b)
    }

    pub async fn business(&self, id: &str) -> Result<Option<Business>, StoreError> {
        let row = sqlx::query(&format!("SELECT {BUSINESS} FROM businesses WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(business_from).transpose()
    }

    /// Adds a key party. A person (an existing applicant) is a party of a business once.
    pub async fn add_party(
        &self,
        business_id: &str,
        party: NewParty,
    ) -> Result<BusinessParty, StoreError> {
        let now = self.now();
        let p = match party {
            NewParty::Person {
                applicant_id,
                declared_blob,
            } => BusinessParty {
                id: new_id(),
                business_id: business_id.into(),
                applicant_id: Some(applicant_id),
                declared_blob: Some(declared_blob),
                entity: None,
                created_at: now,
            },
            NewParty::Entity(e) => BusinessParty {
                id: new_id(),
                business_id: business_id.into(),
                applicant_id: None,
                declared_blob: None,
                entity: Some(e),
                created_at: now,
            },
        };
        let mut tx = self.pool.begin().await?;
        lock_editable(&mut tx, business_id, now).await?;
        let e = p.entity.as_ref();
        sqlx::query(&format!(
            "INSERT INTO business_parties ({PARTY}, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, (SELECT COALESCE(MAX(seq), 0) + 1 FROM business_parties WHERE business_id = $2))"
        ))
        .bind(&p.id)
        .bind(&p.business_id)
        .bind(&p.applicant_id)
        .bind(&p.declared_blob)
        .bind(e.map(|e| e.kind.clone()))
        .bind(e.map(|e| e.name.clone()))
        .bind(e.map(|e| e.registration_number.clone()))
        .bind(e.map(|e| e.jurisdiction.clone()))
        .bind(p.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if unique_violation(&e) {
                StoreError::Conflict("this person is already a party of this business")
            } else {
                e.into()
            }
        })?;
        tx.commit().await?;
        Ok(p)
    }

    /// The business's parties, in the order they were added.
    pub async fn parties_of(&self, business_id: &str) -> Result<Vec<BusinessParty>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        parties_in(&mut conn, business_id).await
    }

    /// The business's relations, in the order they were added.
    pub async fn relations_of(
        &self,
        business_id: &str,
    ) -> Result<Vec<BusinessRelation>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        relations_in(&mut conn, business_id).await
    }

    /// Adds a relation if `check` accepts the business's structure with it: the check sees
    /// every party and every relation, the new one last, under the business's lock. `Ok(Err)`
    /// is the check's refusal; nothing was written.
    pub async fn add_relation<E>(
        &self,
        business_id: &str,
        party_id: &str,
        role: &str,
        of_party_id: Option<&str>,
        share_ppm: Option<i64>,
        check: impl FnOnce(&[BusinessParty], &[BusinessRelation]) -> Result<(), E>,
    ) -> Result<Result<BusinessRelation, E>, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        lock_editable(&mut tx, business_id, now).await?;
        let parties = parties_in(&mut tx, business_id).await?;
        let mut relations = relations_in(&mut tx, business_id).await?;
        let r = BusinessRelation {
            id: new_id(),
            business_id: business_id.into(),
            party_id: party_id.into(),
            role: role.into(),
            of_party_id: of_party_id.map(str::to_string),
            share_ppm,
            created_at: now,
        };
        relations.push(r.clone());
        if let Err(e) = check(&parties, &relations) {
            return Ok(Err(e));
        }
        sqlx::query(&format!(
            "INSERT INTO business_relations ({RELATION}, seq) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, (SELECT COALESCE(MAX(seq), 0) + 1 FROM business_relations WHERE business_id = $2))"
        ))
        .bind(&r.id)
        .bind(&r.business_id)
        .bind(&r.party_id)
        .bind(&r.role)
        .bind(&r.of_party_id)
        .bind(r.share_ppm)
        .bind(r.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if unique_violation(&e) {
                StoreError::Conflict("this party already holds this role there")
            } else {
                e.into()
            }
        })?;
        tx.commit().await?;
        Ok(Ok(r))
    }

    /// Removes a party no relation names (remove those first); answers it, so that the
    /// caller deletes what was sealed for it. `None` when the business has no such party.
    pub async fn remove_party(
        &self,
        business_id: &str,
        id: &str,
    ) -> Result<Option<BusinessParty>, StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_editable(&mut tx, business_id, self.now()).await?;
        let Some(party) = parties_in(&mut tx, business_id)
            .await?
            .into_iter()
            .find(|p| p.id == id)
        else {
            return Ok(None);
        };
        let named: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM business_relations WHERE party_id = $1 OR of_party_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if named > 0 {
            return Err(StoreError::Conflict(
                "relations name this party; remove them first",
            ));
        }
        sqlx::query("DELETE FROM business_parties WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(party))
    }

    /// Removes a relation of the business; false when it has no such relation.
    pub async fn remove_relation(&self, business_id: &str, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_editable(&mut tx, business_id, self.now()).await?;
        let done = sqlx::query("DELETE FROM business_relations WHERE id = $1 AND business_id = $2")
            .bind(id)
            .bind(business_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
