//! The registers (人、地、事、物、组织): buildings, places, organisations, households and
//! residents, and the rules for the personal data they hold.
//!
//! Kinds and tags are closed sets with a stable code (used in the API, the database and
//! imports) and a Chinese label (shown first in the UI). Personal data is validated here
//! ([`IdNumber`], [`check_phone`]) and masked here ([`mask_name`], [`mask_id_number`],
//! [`mask_phone`]), so every path that shows it shows it the same way.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Defines a closed set of codes with Chinese labels: `code()`, `label()`, `parse()`, `ALL`.
macro_rules! codes {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $code:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vm])* $v,)+
        }

        impl $name {
            /// Every value, in the order of their numbers.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The code used in the API, the database and imports.
            #[must_use]
            pub fn code(self) -> &'static str {
                match self { $($name::$v => $code,)+ }
            }

            /// The Chinese label shown in the UI.
            #[must_use]
            pub fn label(self) -> &'static str {
                match self { $($name::$v => $label,)+ }
            }

            /// Parses a code, or a Chinese label (imports use either).
            #[must_use]
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|k| k.code() == s || k.label() == s)
            }

            /// Every code, comma-separated (for error messages).
            #[must_use]
            pub fn codes() -> String {
                Self::ALL.iter().map(|k| k.code()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}
pub(crate) use codes;

codes! {
    /// What a building is used for.
    BuildingKind {
        /// Homes.
        Residential = "residential", "住宅";
        /// Shops.
        Shop = "shop", "商铺";
        /// Factories and workshops.
        Factory = "factory", "厂房";
        /// Schools and kindergartens.
        School = "school", "学校";
        /// Clinics and hospitals.
        Clinic = "clinic", "医疗";
        /// Offices of government and public bodies.
        Public = "public", "公共建筑";
        /// Anything else.
        Other = "other", "其他";
    }
}

/// Which of the three kinds of place a [`PlaceType`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceClass {
    /// A service place (the "one hall, four stations" and others).
    Service,
    /// A risk site (危险源), with a risk level.
    Risk,
    /// A public thing (部件), with a state.
    Thing,
}

codes! {
    /// The type of a place.
    PlaceType {
        /// 党群服务中心, the "one hall".
        PartyServiceCentre = "party_service_centre", "党群服务中心";
        /// 长者饭堂.
        ElderCanteen = "elder_canteen", "长者饭堂";
        /// 公共服务站.
        PublicServiceStation = "public_service_station", "公共服务站";
        /// 志愿者服务站.
        VolunteerStation = "volunteer_station", "志愿者服务站";
        /// 妇女儿童服务站.
        WomenChildrenStation = "women_children_station", "妇女儿童服务站";
        /// 社工服务站.
        SocialWorkStation = "social_work_station", "社工服务站";
        /// 法律服务点.
        LegalService = "legal_service", "法律服务点";
        /// 卫生站 / 诊所.
        Clinic = "clinic", "卫生站";
        /// 学校.
        School = "school", "学校";
        /// 加油站 (risk).
        FuelStation = "fuel_station", "加油站";
        /// 危化品仓库 (risk).
        ChemicalStore = "chemical_store", "危化品仓库";
        /// 建筑工地 (risk).
        ConstructionSite = "construction_site", "建筑工地";
        /// 易涝点 (risk).
        FloodProne = "flood_prone", "易涝点";
        /// 危旧房 (risk).
        OldBuilding = "old_building", "危旧房";
        /// 消防栓 (thing).
        Hydrant = "hydrant", "消防栓";
        /// 监控摄像头 (thing).
        Camera = "camera", "监控摄像头";
        /// 路灯 (thing).
        StreetLamp = "street_lamp", "路灯";
        /// 井盖 (thing).
        Manhole = "manhole", "井盖";
    }
}

impl PlaceType {
    /// Whether the type is a service place, a risk site or a public thing.
    #[must_use]
    pub fn class(self) -> PlaceClass {
        use PlaceType as T;
        match self {
            T::FuelStation
            | T::ChemicalStore
            | T::ConstructionSite
            | T::FloodProne
            | T::OldBuilding => PlaceClass::Risk,
            T::Hydrant | T::Camera | T::StreetLamp | T::Manhole => PlaceClass::Thing,
            _ => PlaceClass::Service,
        }
    }
}

codes! {
    /// The state of a public thing.
    ThingState {
        /// Working.
        Normal = "normal", "正常";
        /// Damaged or not working.
        Damaged = "damaged", "损坏";
        /// Missing.
        Missing = "missing", "缺失";
    }
}

codes! {
    /// The kind of an organisation.
    OrgKind {
        /// 企业.
        Enterprise = "enterprise", "企业";
        /// 个体商户.
        Shop = "shop", "个体商户";
        /// 社会组织.
        SocialOrganisation = "social_organisation", "社会组织";
        /// 党支部.
        PartyBranch = "party_branch", "党支部";
        /// 物业公司.
        PropertyCompany = "property_company", "物业公司";
    }
}

codes! {
    /// What a report may name as where it happened.
    LinkKind {
        /// A building.
        Building = "building", "建筑";
        /// A place: a service place, a risk site or a public thing.
        Place = "place", "场所";
        /// An organisation.
        Organisation = "organisation", "组织";
        /// A household (named by grid staff only).
        Household = "household", "住户";
    }
}

/// A report's link to the registers: the record it names as where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RegisterLink {
    /// Which register.
    pub kind: LinkKind,
    /// The record's id.
    pub id: i64,
}

impl RegisterLink {
    /// The link as the four nullable columns of `events` (building, place, organisation,
    /// household).
    #[must_use]
    pub fn columns(link: Option<RegisterLink>) -> [Option<i64>; 4] {
        let mut out = [None; 4];
        if let Some(l) = link {
            out[l.kind as usize] = Some(l.id);
        }
        out
    }

    /// The link held by the four columns (the first one set).
    #[must_use]
    pub fn from_columns(cols: [Option<i64>; 4]) -> Option<RegisterLink> {
        LinkKind::ALL
            .iter()
            .zip(cols)
            .find_map(|(k, id)| id.map(|id| RegisterLink { kind: *k, id }))
    }
}

codes! {
    /// How a resident is registered.
    Registration {
        /// 户籍人口: registered here.
        Registered = "registered", "户籍";
        /// 流动人口: living here, registered elsewhere.
        Floating = "floating", "流动";
    }
}

codes! {
    /// A care tag of a resident. The last three are *sensitive*: only tokens granted them
    /// see them, or count by them.
    CareTag {
        /// 独居老人.
        ElderlyAlone = "elderly_alone", "独居老人";
        /// 高龄 (80 and over).
        VeryOld = "very_old", "高龄";
        /// 残疾.
        Disabled = "disabled", "残疾";
        /// 留守儿童.
        LeftBehindChild = "left_behind_child", "留守儿童";
        /// 低保.
        LowIncome = "low_income", "低保";
        /// 退役军人.
        Veteran = "veteran", "退役军人";
        /// 社区矫正 (sensitive).
        CommunityCorrection = "community_correction", "社区矫正";
        /// 刑满释放 (sensitive).
        Released = "released", "刑满释放";
        /// 精神障碍 (sensitive).
        MentalDisorder = "mental_disorder", "精神障碍";
    }
}

impl CareTag {
    /// The tag's bit in a [`Tags`] set.
    #[must_use]
    pub fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// Whether only tokens granted it may see it.
    #[must_use]
    pub fn sensitive(self) -> bool {
        matches!(
            self,
            CareTag::CommunityCorrection | CareTag::Released | CareTag::MentalDisorder
        )
    }
}

/// A set of care tags, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tags(pub u16);

impl Tags {
    /// The set of every sensitive tag.
    #[must_use]
    pub fn sensitive() -> Tags {
        Tags(
            CareTag::ALL
                .iter()
                .filter(|t| t.sensitive())
                .fold(0, |m, t| m | t.bit()),
        )
    }

    /// Whether `t` is in the set.
    #[must_use]
    pub fn has(self, t: CareTag) -> bool {
        self.0 & t.bit() != 0
    }

    /// The set with `t` added.
    #[must_use]
    pub fn with(self, t: CareTag) -> Tags {
        Tags(self.0 | t.bit())
    }

    /// The tags of the set that a holder of `granted` may see: every ordinary tag, and the
    /// sensitive tags granted.
    #[must_use]
    pub fn visible(self, granted: Tags) -> Tags {
        Tags(self.0 & (!Tags::sensitive().0 | granted.0))
    }

    /// The tags, in their order.
    pub fn iter(self) -> impl Iterator<Item = CareTag> {
        CareTag::ALL.iter().copied().filter(move |t| self.has(*t))
    }

    /// The codes of the tags.
    #[must_use]
    pub fn codes(self) -> Vec<&'static str> {
        self.iter().map(CareTag::code).collect()
    }
}

/// A resident's sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 男.
    Male,
    /// 女.
    Female,
}

/// A resident identity number (公民身份号码, GB 11643-1999): 6 digits of region, 8 of birth
/// date, 3 of sequence (odd for men), and a check character (0–9 or X).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl std::fmt::Debug for IdNumber {
    // Never printed in full, not even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", mask_id_number(&self.0))
    }
}

impl IdNumber {
    /// Validates an ID number: 18 characters, a real birth date, and the ISO 7064 MOD 11-2
    /// check character. A lowercase `x` is taken as `X`.
    pub fn parse(s: &str) -> Result<IdNumber, String> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
            return Err("an ID number is 17 digits and a check digit or X".into());
        }
        if !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err("the last character of an ID number is a digit or X".into());
        }
        if id_check_char(&b[..17]) != b[17] {
            return Err("the ID number's check digit does not match (mistyped?)".into());
        }
        let birth = NaiveDate::parse_from_str(&s[6..14], "%Y%m%d")
            .map_err(|_| "the ID number's birth date is not a date".to_owned())?;
        if birth.year() < 1880 {
            return Err("the ID number's birth date is before 1880".into());
        }
        Ok(IdNumber(s))
    }

    /// The number, unmasked. Only for encryption and authorised reads.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The birth date it holds.
    #[must_use]
    pub fn birth_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }

    /// The sex it holds (the sequence number is odd for men).
    #[must_use]
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }
}

/// The check character (ISO 7064 MOD 11-2) of the first 17 digits of an ID number.
#[must_use]
pub fn id_check_char(digits17: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = digits17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

/// Validates a phone number: a mainland mobile (11 digits starting with 1) or a landline
/// with area code (e.g. 0660-3388123). Returns it with separators removed.
pub fn check_phone(s: &str) -> Result<String, String> {
    let digits: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect();
    let ok = digits.bytes().all(|b| b.is_ascii_digit())
        && ((digits.len() == 11 && digits.starts_with('1'))
            || (digits.starts_with('0') && (10..=12).contains(&digits.len())));
    if ok {
        Ok(digits)
    } else {
        Err("a phone number is an 11-digit mobile number or a landline with area code".into())
    }
}

/// A name as shown wherever it is masked: the family name and the last character, the
/// rest as `*` (张*明; 张* for two characters; 欧**丽 for four).
#[must_use]
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => {
            let mut s = String::new();
            s.push(chars[0]);
            s.extend(std::iter::repeat_n('*', n - 2));
            s.push(chars[n - 1]);
            s
        }
    }
}

/// An ID number as shown wherever it is masked: region and last four (441502********1234).
#[must_use]
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    let mut s: String = chars[..6].iter().collect();
    s.extend(std::iter::repeat_n('*', n - 10));
    s.extend(&chars[n - 4..]);
    s
}

/// A phone number as shown wherever it is masked: first three and last four (138****8000).
#[must_use]
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    let mut s: String = chars[..3].iter().collect();
    s.extend(std::iter::repeat_n('*', n - 7));
    s.extend(&chars[n - 4..]);
    s
}

/// A building of the register.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingRecord {
    /// Row id (assigned by the writer when 0).
    pub id: i64,
    /// Unique code (the door-plate register's, or generated).
    pub code: String,
    /// Address (门牌), e.g. 汕尾市城区凤翔街道凤翔社区二马路12号.
    pub address: String,
    /// What it is used for.
    pub kind: BuildingKind,
    /// Floors above ground.
    pub floors: i16,
    /// The point it is located, counted and drawn at (lon, lat).
    pub lon: f64,
    /// See `lon`.
    pub lat: f64,
    /// Its outline, when known.
    pub outline: Option<geo_types::Polygon<f64>>,
    /// Generated rather than surveyed.
    pub generated: bool,
}

/// A place of the register: a service place, a risk site or a public thing.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceRecord {
    /// Row id (assigned by the writer when 0).
    pub id: i64,
    /// Unique code.
    pub code: String,
    /// Name (e.g. 凤翔社区长者饭堂).
    pub name: String,
    /// Its type.
    pub kind: PlaceType,
    /// Risk sites: 1 (low) to 4 (major).
    pub risk_level: Option<i16>,
    /// Public things: their state.
    pub state: Option<ThingState>,
    /// The building it is in, if any.
    pub building_id: Option<i64>,
    /// Position (lon, lat).
    pub lon: f64,
    /// See `lon`.
    pub lat: f64,
    /// Generated rather than surveyed.
    pub generated: bool,
}

/// An organisation of the register.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganisationRecord {
    /// Row id (assigned by the writer when 0).
    pub id: i64,
    /// Unique code (the unified social credit code, or generated).
    pub code: String,
    /// Name.
    pub name: String,
    /// Its kind.
    pub kind: OrgKind,
    /// The building it is in, if any.
    pub building_id: Option<i64>,
    /// Contact person's name (personal data: masked on the way out).
    pub contact_name: Option<String>,
    /// Position (lon, lat).
    pub lon: f64,
    /// See `lon`.
    pub lat: f64,
    /// Generated rather than surveyed.
    pub generated: bool,
}

/// A household of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdRecord {
    /// Row id (assigned by the writer when 0).
    pub id: i64,
    /// Unique code.
    pub code: String,
    /// The building it lives in.
    pub building_id: i64,
    /// Its door in the building (room number).
    pub door: String,
    /// Generated rather than surveyed.
    pub generated: bool,
}

/// A resident of the register, without the fields kept sealed (ID number, phone): what
/// the in-memory registers hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentRecord {
    /// Row id (assigned by the writer when 0).
    pub id: i64,
    /// The household they belong to.
    pub household_id: i64,
    /// Name (personal data: masked on the way out).
    pub name: String,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Sex.
    pub sex: Sex,
    /// How they are registered.
    pub registration: Registration,
    /// Care tags.
    pub tags: Tags,
    /// Generated rather than surveyed.
    pub generated: bool,
}

/// A resident to store: the record and the fields that are sealed at rest.
#[derive(Debug, Clone)]
pub struct NewResident {
    /// Everything but the sealed fields.
    pub record: ResidentRecord,
    /// ID number (validated).
    pub id_number: IdNumber,
    /// Phone (validated by [`check_phone`]), if any.
    pub phone: Option<String>,
}

/// An organisation to store: the record and its contact's phone, sealed at rest.
#[derive(Debug, Clone)]
pub struct NewOrganisation {
    /// Everything but the sealed field.
    pub record: OrganisationRecord,
    /// Contact phone (validated by [`check_phone`]), if any.
    pub contact_phone: Option<String>,
}

/// Every register of a region, as generated or imported.
#[derive(Debug, Clone, Default)]
pub struct Registers {
    /// Buildings.
    pub buildings: Vec<BuildingRecord>,
    /// Places.
    pub places: Vec<PlaceRecord>,
    /// Organisations.
    pub organisations: Vec<NewOrganisation>,
    /// Households.
    pub households: Vec<HouseholdRecord>,
    /// Residents.
    pub residents: Vec<NewResident>,
}

/// Age bands of area profiles.
pub const AGE_BANDS: [(&str, u32, u32); 5] = [
    ("0-17", 0, 17),
    ("18-34", 18, 34),
    ("35-59", 35, 59),
    ("60-79", 60, 79),
    ("80+", 80, u32::MAX),
];

/// Full years of age on `on` of someone born on `birth`.
#[must_use]
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    on.years_since(birth).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid number for a birth date and sequence (the check digit computed).
    fn id(prefix17: &str) -> String {
        let c = id_check_char(prefix17.as_bytes());
        format!("{prefix17}{}", char::from(c))
    }

    #[test]
    fn id_numbers_are_checked_by_mod_11_2() {
        // The standard's own example: 11010519491231002X.
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(IdNumber::parse("11010519491231002x").is_ok());
        assert!(IdNumber::parse("110105194912310021").is_err());
        let ok = id("44150219800101123");
        let n = IdNumber::parse(&ok).unwrap();
        assert_eq!(n.sex(), Sex::Male);
        assert_eq!(n.birth_date(), NaiveDate::from_ymd_opt(1980, 1, 1));
        assert!(
            IdNumber::parse(&id("44150219801301123")).is_err(),
            "month 13"
        );
        assert!(IdNumber::parse("4415021980010112").is_err());
        assert!(!format!("{n:?}").contains("19800101"));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜丽"), "欧**丽");
        assert_eq!(mask_id_number("441502198001011234"), "441502********1234");
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("06603388123"), "066****8123");
    }

    #[test]
    fn phones() {
        assert_eq!(check_phone("138 0013 8000").unwrap(), "13800138000");
        assert_eq!(check_phone("0660-3388123").unwrap(), "06603388123");
        assert!(check_phone("12345").is_err());
        assert!(check_phone("2380013800x").is_err());
    }

    #[test]
    fn codes_parse_and_sensitive_tags_hide() {
        for k in PlaceType::ALL {
            assert_eq!(PlaceType::parse(k.code()), Some(*k));
            assert_eq!(PlaceType::parse(k.label()), Some(*k));
        }
        assert_eq!(PlaceType::FloodProne.class(), PlaceClass::Risk);
        let t = Tags::default()
            .with(CareTag::ElderlyAlone)
            .with(CareTag::MentalDisorder);
        assert_eq!(t.visible(Tags::default()).codes(), ["elderly_alone"]);
        assert_eq!(
            t.visible(Tags::default().with(CareTag::MentalDisorder))
                .codes(),
            ["elderly_alone", "mental_disorder"]
        );
    }
}
