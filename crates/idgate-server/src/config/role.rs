//! Which part of the service a process runs (`role`, `serve --role`): several processes
//! share one database and one object store.

/// What a process of the service runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The HTTP API and the workers (one process does everything).
    All,
    /// The HTTP API only: submitted cases wait for a worker process.
    Api,
    /// The workers and the webhook dispatcher; HTTP serves only the health routes.
    Worker,
}

impl Role {
    pub fn parse(word: &str) -> Option<Role> {
        match word {
            "all" => Some(Role::All),
            "api" => Some(Role::Api),
            "worker" => Some(Role::Worker),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Api => "api",
            Role::Worker => "worker",
        }
    }

    /// Does this process answer the API?
    pub fn serves_api(self) -> bool {
        self != Role::Worker
    }

    /// Does this process run the workers and the webhook dispatcher?
    pub fn works(self) -> bool {
        self != Role::Api
    }
}
