//! The station's rules as plain data: what the verdict, the post and the service-date checks
//! need from the configuration, without the configuration file. `config` builds it once; the store
//! and the application layer read it.

use crate::domain::barcode::BarcodeRules;
use crate::domain::rules::DuplicateScope;
use crate::domain::service::ServiceDef;

#[derive(Debug, Clone)]
pub struct Policy {
    pub barcode: BarcodeRules,
    /// The service catalogue, in config order.
    pub services: Vec<ServiceDef>,
    pub duplicate_scope: DuplicateScope,
    pub max_backdate_days: u32,
}

impl Policy {
    pub fn service(&self, code: &str) -> Option<&ServiceDef> {
        self.services.iter().find(|s| s.code == code)
    }

    /// A bed-night service (HUD RecordType 200): its date must fall before the exit date.
    pub fn is_bed_night(&self, service_code: &str) -> bool {
        self.service(service_code)
            .map(ServiceDef::is_bed_night)
            .unwrap_or(false)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            barcode: BarcodeRules::default(),
            services: Vec::new(),
            duplicate_scope: DuplicateScope::ServiceDay,
            max_backdate_days: 14,
        }
    }
}
