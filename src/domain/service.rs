//! The service catalogue: what a batch records (a hot meal, a shower, a bed night).

use crate::domain::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Dollars,
    Minutes,
    Hours,
}

impl Unit {
    pub fn parse(s: &str) -> Option<Unit> {
        match s {
            "count" => Some(Unit::Count),
            "dollars" => Some(Unit::Dollars),
            "minutes" => Some(Unit::Minutes),
            "hours" => Some(Unit::Hours),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Dollars => "dollars",
            Unit::Minutes => "minutes",
            Unit::Hours => "hours",
        }
    }
    /// ClientTrack's Service_UnitsOfMeasure letter.
    pub fn clienttrack_letter(self) -> &'static str {
        match self {
            Unit::Count => "C",
            Unit::Dollars => "D",
            Unit::Minutes => "M",
            Unit::Hours => "H",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServiceDef {
    pub code: String,
    pub name: String,
    pub unit: Unit,
    pub units: f64,
    pub unit_value: Money,
    pub hud_record_type: Option<u32>,
    pub hud_type_provided: Option<u32>,
}

impl ServiceDef {
    /// HUD RecordType 200 is a bed night: the service date must fall before the exit date.
    pub fn is_bed_night(&self) -> bool {
        self.hud_record_type == Some(200)
    }
}
