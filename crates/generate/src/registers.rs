//! Generated registers (人、地、事、物、组织) for the grids of a hierarchy: buildings, places,
//! organisations, households and residents, consistent with the areas they lie in.
//!
//! Everything is **generated** (every record has `generated: true`) and driven by one
//! ChaCha8 generator seeded from [`RegisterOptions::seed`], visiting streets, communities and
//! grids in the order of the areas given: the same seed and areas give identical registers.
//! Ids are 1, 2, 3… in the order of each list; households refer to buildings, residents to
//! households, and places and organisations to the building they are in, if any.
//!
//! # Households and residents
//!
//! Per grid with `h` households and `p` residents, at scale `s`:
//! `H = max(round(s·h), 1)` households and `P = max(round(s·p), H)` residents (a grid without
//! households gets neither), so that the sums per grid hold **exactly**. Household sizes are
//! 1 + Poisson(P/H − 1), then nudged one person at a time until they add up to `P` (every
//! household keeps at least one person).
//!
//! A household is a single person (42 % of them 65+, who then live alone) or a head
//! (22–95, 80 % men), a spouse (80 % of two-person households, 90 % of larger ones) and
//! children, parents of the head, grandchildren or other relatives, with ages that follow
//! from the head's. Children take the father's surname (96 %), spouses and mothers have their
//! own; surnames are weighted for eastern Guangdong (陈 林 黄 李 张 吴 刘 蔡 郑 彭 庄 王 …);
//! given names have one or two characters (78 % two). Ages (0–100) are counted on
//! 2026-11-01.
//!
//! - **Registration**: a household is floating (流动) with probability 0.22 in dense grids,
//!   0.12 in town grids and 0.05 in rural ones; 2 % of the members of registered households
//!   are floating too (in-married spouses). About 85 % of Shanwei is then registered.
//! - **ID numbers** (valid GB 11643: region, birth date, sequence odd for men and even for
//!   women, MOD 11-2 check character; all unique): registered residents carry their
//!   district's code (441502 城区, 441521 海丰县, 441523 陆河县, 441581 陆丰市; 4 % another
//!   Shanwei district), floating ones their household's origin: 35 % another Shanwei
//!   district, 40 % elsewhere in Guangdong, 25 % another province (85 % of a floating
//!   household share one origin).
//! - **Phones** (unique 11-digit mobiles, 13x/14x/15x/16x/17x/18x/19x): 72 % of people aged
//!   12–17, 90 % of 18–69, 55 % of 70+ (≈ 85 % of everyone 12+); nobody under 12.
//! - **Care tags**: 高龄 for every 80+; 独居老人 for 40 % of one-person households aged 65+;
//!   残疾 2.5 % under 60 and 9 % from 60 (≈ 4 %); 留守儿童 for the children under 16 of 8 %
//!   of the households in town and rural grids; 低保 for every member of 2 % of households;
//!   退役军人 for 2 % of men aged 20–70; and, for adults (18+), 社区矫正 0.05 %,
//!   刑满释放 0.1 % and 精神障碍 0.4 %.
//!
//! # Buildings
//!
//! A grid is **dense** from 1,500 households per km², **town** from 300, **rural** below.
//! Residential buildings are filled with the grid's households in turn: dense ones have 6–33
//! floors and room for 6–30 households, town ones 3–8 floors and 2–8 households, rural ones
//! 1–4 floors and 1–3 households (the last building of a grid takes what is left). Doors
//! are room numbers (floor and unit: `1203`). Per generated household there are also shops
//! (1/25 dense, 1/20 town, 1/60 rural; twice as many in pilots), factories (1/400, 1/150,
//! 1/250) and other buildings (1/250, 1/120, 1/80), rounded at random; each community has a
//! public building (its committee's, in its grid with most households), and a school
//! (50 %) and a clinic (70 %) building in one of its grids. Points are uniform and strictly
//! inside the grid (rejection sampling in its bounding box). Codes are the grid's code,
//! `-B` and a 4-digit sequence; addresses are the ancestors' names, the community's short
//! name, one of the community's 3–8 generated roads and a number (城区凤山街道凤翔社区
//! 海滨路12号).
//!
//! # Places
//!
//! Codes are the code of the area a place belongs to, `-P` and a 3-digit sequence.
//!
//! - **Service places**, per community, in its public building unless said otherwise: a
//!   党群服务中心; a 公共服务站, 志愿者服务站, 妇女儿童服务站 and 社工服务站 each with
//!   probability 0.9 in a 社区 and 0.6 in a village; a 法律服务点 (60 %); a 长者饭堂 (45 %,
//!   half of them at a point of their own in the same grid); a 卫生站 in the clinic building
//!   and a school (小学, 幼儿园 or 中学) in the school building when there are ones. Service
//!   places do not depend on the scale.
//! - **Risk sites** with a level 1–4: 1–4 fuel stations per street (2 on average) and a
//!   chemical store in 25 % of streets (in a factory when the street has one); per grid a
//!   construction site (15 % dense, 6 % town, 1 % rural), a flood-prone spot (12 %, 12 %,
//!   10 %) and an old building (8 %, 15 %, 12 %; one of the grid's residential buildings).
//! - **Public things** with a state (90 % normal, 7 % damaged, 3 % missing), per generated
//!   household: hydrants (1/80 dense, 1/100 town, 1/150 rural), cameras (1/40, 1/60, 1/100),
//!   street lamps (1/25, 1/30, 1/40) and manholes (1/25, 1/40, 1/80), rounded at random.
//!
//! **Pilots** ([`RegisterOptions::pilots`]: an area listed or any of its ancestors) get every
//! service place, twice the things (at least one of each per grid) and about twice the
//! organisations.
//!
//! # Organisations
//!
//! A shop (个体商户) in 85 % of shop buildings, an enterprise per factory, a party branch
//! (党支部) per community in its public building, a property company for 4 % of the dense
//! residential buildings of 6 households or more (8 % in pilots), and a social organisation
//! in 30 % of communities (two chances in pilots). Codes are unified social credit codes
//! (18 characters, valid check characters, unique), party branches' the community's code,
//! `-O` and a sequence. Contacts are generated names with unique mobiles.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use geo::{Area, InteriorPoint};
use geo_types::MultiPolygon;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::events::inside;
use minqing_model::register::{
    BuildingKind, BuildingRecord, CareTag, HouseholdRecord, IdNumber, NewOrganisation, NewResident,
    OrgKind, OrganisationRecord, PlaceRecord, PlaceType, Registers, Registration, ResidentRecord,
    Sex, Tags, ThingState, id_check_char,
};
use minqing_model::{AreaRecord, Level};

/// Options of [`registers`].
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterOptions {
    /// Seed of the random generator: the same seed (and areas) gives the same registers.
    pub seed: u64,
    /// Fraction of each grid's households and population to generate (1.0 = all; tests use
    /// e.g. 0.02).
    pub scale: f64,
    /// Codes of the areas (communities, villages, townships…) to give the richest data
    /// (pilots); children of a listed area count as listed.
    pub pilots: Vec<String>,
}

impl Default for RegisterOptions {
    fn default() -> Self {
        RegisterOptions {
            seed: 2024,
            scale: 1.0,
            pilots: Vec::new(),
        }
    }
}

/// Generates the registers of the grids in `areas`.
///
/// `areas` is the whole hierarchy (as [`shanwei_hierarchy`](crate::shanwei_hierarchy)
/// returns it): the parents of each grid give its community, street and district (names,
/// addresses, ID region codes). Areas other than grids generate nothing by themselves; grids
/// whose parents are missing are still generated, with shorter addresses. The rules and rates
/// are in the [module documentation](self).
pub fn registers(areas: &[AreaRecord], opts: &RegisterOptions) -> Registers {
    Gen::new(areas, opts).run()
}

/// Ages are counted on this day.
const END: (i32, u32, u32) = (2026, 11, 1);
/// The oldest age generated.
const MAX_AGE: u32 = 100;
/// Households per km² from which a grid is dense.
const DENSE: f64 = 1500.0;
/// Households per km² from which a grid is a town's.
const TOWN: f64 = 300.0;
/// Km per degree of latitude.
const KM_PER_DEGREE: f64 = 111.32;

/// Surnames with weights: eastern Guangdong (Shanwei, Chaoshan) has many 陈, 林, 黄.
const SURNAMES: [&str; 42] = [
    "陈", "林", "黄", "李", "张", "吴", "刘", "蔡", "郑", "彭", "庄", "王", "许", "叶", "钟", "卓",
    "余", "杨", "曾", "罗", "邱", "温", "洪", "颜", "谢", "何", "朱", "徐", "周", "苏", "卢", "戴",
    "方", "马", "梁", "赖", "詹", "江", "魏", "范", "欧阳", "司徒",
];
/// Weights of [`SURNAMES`].
const SURNAME_WEIGHTS: [u32; 42] = [
    180, 90, 70, 55, 50, 45, 40, 40, 35, 32, 28, 28, 25, 25, 22, 20, 20, 20, 18, 18, 15, 14, 14,
    12, 12, 12, 10, 10, 10, 10, 10, 8, 8, 8, 8, 8, 7, 7, 6, 6, 2, 1,
];

const MALE: [char; 48] = [
    '伟', '强', '磊', '军', '勇', '杰', '涛', '明', '超', '刚', '华', '海', '建', '文', '志', '国',
    '俊', '宏', '鹏', '辉', '斌', '鑫', '浩', '宇', '锋', '荣', '东', '振', '坤', '添', '龙', '亮',
    '平', '兴', '永', '雄', '锦', '汉', '成', '家', '泽', '彬', '耀', '光', '德', '波', '森', '炜',
];

const FEMALE: [char; 48] = [
    '芳', '敏', '静', '丽', '艳', '娟', '秀', '霞', '桂', '春', '雪', '晓', '佳', '婷', '燕', '丹',
    '玲', '琳', '慧', '美', '莉', '萍', '红', '娜', '薇', '欣', '颖', '怡', '珠', '凤', '英', '梅',
    '月', '琴', '兰', '瑶', '诗', '思', '雅', '妮', '洁', '蓉', '璇', '楠', '倩', '冰', '娇', '嘉',
];

const ROAD_ROOTS: [&str; 40] = [
    "海滨", "凤翔", "香洲", "人民", "新港", "工业", "红草", "东风", "建设", "和平", "中山", "文化",
    "北园", "南苑", "新华", "环城", "通港", "金湖", "华侨", "振兴", "兴华", "迎宾", "明珠", "康乐",
    "东涌", "红海", "品清", "长沙", "金町", "龙山", "莲花", "五坡", "二马", "城西", "城东", "站前",
    "滨河", "青年", "朝阳", "汕尾",
];
const URBAN_ROAD: [&str; 6] = ["路", "路", "街", "大道", "巷", "一路"];
const RURAL_PARTS: [&str; 12] = [
    "新村", "老村", "东", "西", "南", "北", "中", "前", "后", "上", "下", "围",
];
const RURAL_ROAD: [&str; 4] = ["巷", "巷", "路", "街"];

/// The real district codes of Shanwei.
const SHANWEI: [&str; 4] = ["441502", "441521", "441523", "441581"];
/// Other places in Guangdong that people come from (Chaoshan, Huizhou, Meizhou, the Pearl
/// River delta, western Guangdong).
const GUANGDONG: [&str; 18] = [
    "445281", "445224", "441323", "441621", "441624", "440513", "440514", "441402", "440881",
    "445381", "445102", "445202", "441302", "440303", "440106", "441881", "440982", "441424",
];
/// Other provinces (Hunan, Jiangxi, Guangxi, Sichuan, Guizhou, Henan, Hubei, Fujian,
/// Chongqing).
const PROVINCES: [&str; 16] = [
    "431021", "431121", "430582", "430524", "360731", "360735", "450881", "450921", "511623",
    "520221", "522425", "411522", "412827", "421127", "350583", "500234",
];
const MOBILE_PREFIXES: [u64; 30] = [
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 153, 155, 156, 157, 158,
    159, 166, 177, 180, 181, 182, 183, 186, 187, 188, 199,
];

const SHOP_GOODS: [&str; 20] = [
    "粿条店",
    "牛肉丸店",
    "五金店",
    "杂货店",
    "茶叶店",
    "海鲜档",
    "士多店",
    "药店",
    "理发店",
    "小食店",
    "汽修店",
    "手机店",
    "服装店",
    "早餐店",
    "便利店",
    "水果店",
    "建材店",
    "电器店",
    "文具店",
    "肠粉店",
];
const INDUSTRIES: [&str; 14] = [
    "电子",
    "服装",
    "食品",
    "水产品加工",
    "塑料制品",
    "五金制品",
    "珠宝首饰",
    "家具",
    "包装材料",
    "建材",
    "印刷",
    "纺织",
    "机械",
    "农产品",
];
const BRAND: [char; 30] = [
    '鸿', '嘉', '信', '恒', '华', '城', '海', '丰', '锦', '荣', '安', '泰', '盛', '达', '宏', '誉',
    '汇', '新', '联', '永', '富', '金', '佳', '德', '顺', '利', '源', '昌', '兴', '隆',
];
const SOCIAL: [&str; 8] = [
    "老年人协会",
    "志愿者协会",
    "文体协会",
    "慈善会",
    "龙舟协会",
    "妇女互助会",
    "青年志愿服务队",
    "乡贤理事会",
];
const PROJECTS: [&str; 6] = [
    "安置房项目",
    "商住楼项目",
    "道路改造项目",
    "学校扩建项目",
    "综合体项目",
    "污水管网项目",
];
const LOW_SPOTS: [&str; 5] = ["低洼路段", "涵洞", "下穿通道", "路口", "积水点"];
const FUEL_BRANDS: [&str; 4] = ["中国石化", "中国石油", "中海油", ""];
const ORDINALS: [&str; 4] = ["", "第二", "第三", "第四"];

/// Characters of unified social credit codes (GB 32100: no I, O, S, V, Z).
const CREDIT_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Households generated in a grid of `households` and `population` at `scale`: `(H, P)`
/// with `H = max(round(scale·households), 1)` and `P = max(round(scale·population), H)`,
/// none when the grid has no households.
fn counts(households: i32, population: i32, scale: f64) -> (usize, usize) {
    if households <= 0 {
        return (0, 0);
    }
    let s = if scale.is_finite() {
        scale.max(0.0)
    } else {
        0.0
    };
    let h = ((s * f64::from(households)).round() as usize).max(1);
    let p = ((s * f64::from(population.max(0))).round() as usize).max(h);
    (h, p)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Density {
    Dense,
    Town,
    Rural,
}

/// A building or a free point where a place or an organisation is.
#[derive(Debug, Clone, Copy)]
struct Spot {
    building: Option<i64>,
    p: [f64; 2],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Child,
    Parent,
    Grandchild,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Member {
    age: u32,
    sex: Sex,
    surname: usize,
}

/// What the members of a household share.
struct House {
    id: i64,
    registration: Registration,
    region: [u8; 6],
    /// Tags that apply to the members who qualify (独居老人 65+, 留守儿童 under 16, 低保).
    tags: Tags,
}

/// A community and its grids, in the order of the areas.
struct Community {
    area: Option<usize>,
    grids: Vec<usize>,
}

/// A street and its communities.
struct Street {
    area: Option<usize>,
    communities: Vec<Community>,
}

struct Road {
    name: String,
    next: u32,
}

/// What is known of a community while its grids are generated.
struct Comm<'a> {
    code: &'a str,
    short: String,
    prefix: String,
    district: String,
    region: [u8; 6],
    pilot: bool,
    urban: bool,
    roads: Vec<Road>,
    centre: usize,
    public: Option<Spot>,
    school: Option<Spot>,
    clinic: Option<Spot>,
}

/// A grid's geometry.
struct Cell<'a> {
    code: &'a str,
    geom: &'a MultiPolygon<f64>,
    bbox: [f64; 4],
}

fn bbox(mp: &MultiPolygon<f64>) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in &mp.0 {
        for c in &p.exterior().0 {
            b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
        }
    }
    b
}

fn density(a: &AreaRecord, b: [f64; 4]) -> Density {
    let cos = f64::midpoint(b[1], b[3]).to_radians().cos().abs();
    let km2 = a.geom.unsigned_area() * KM_PER_DEGREE * KM_PER_DEGREE * cos;
    let per_km2 = f64::from(a.households.max(0)) / km2.max(1e-9);
    if per_km2 >= DENSE {
        Density::Dense
    } else if per_km2 >= TOWN {
        Density::Town
    } else {
        Density::Rural
    }
}

/// 凤翔社区居委会 → 凤翔社区, 布金村民委员会 → 布金村.
fn short_community(name: &str) -> String {
    const SUFFIXES: [(&str, &str); 7] = [
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("社区居委", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
    ];
    for (suffix, with) in SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return format!("{stem}{with}");
        }
    }
    name.to_owned()
}

/// 凤翔社区 → 凤翔, 布金村 → 布金, 可塘镇 → 可塘, 凤山街道 → 凤山.
fn stem(name: &str) -> &str {
    for suffix in ["社区", "街道", "村", "镇", "乡"] {
        if let Some(s) = name.strip_suffix(suffix)
            && !s.is_empty()
        {
            return s;
        }
    }
    name
}

/// The check character of the 8 characters of an organisation code (GB 11714).
fn org_check(c: &[u8]) -> u8 {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = c
        .iter()
        .zip(WEIGHTS)
        .map(|(&ch, w)| {
            w * if ch.is_ascii_digit() {
                u32::from(ch - b'0')
            } else {
                u32::from(ch.saturating_sub(b'A')) + 10
            }
        })
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    }
}

/// The check character of the first 17 characters of a unified social credit code
/// (GB 32100).
fn credit_check(c: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: u32 = c
        .iter()
        .zip(WEIGHTS)
        .map(|(&ch, w)| w * CREDIT_CHARS.iter().position(|&x| x == ch).unwrap_or(0) as u32)
        .sum();
    CREDIT_CHARS[((31 - sum % 31) % 31) as usize]
}

/// Six ASCII digits, or `None`.
fn region_of(code: &str) -> Option<[u8; 6]> {
    let b = code.as_bytes();
    if b.len() < 6 || !b[..6].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut r = [0u8; 6];
    r.copy_from_slice(&b[..6]);
    Some(r)
}

/// The room number of the `k`-th household of a building of `cap` households on `floors`.
fn door(k: usize, cap: usize, floors: i16) -> String {
    let per = cap.div_ceil(floors.max(1) as usize).max(1);
    format!("{}{:02}", 1 + k / per, 1 + k % per)
}

fn put_digits(out: &mut [u8], mut v: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn days_of(y: i32, m: u32, d: u32) -> i32 {
    NaiveDate::from_ymd_opt(y, m, d)
        .or_else(|| NaiveDate::from_ymd_opt(y, m, d.saturating_sub(1)))
        .map_or(0, |x| x.num_days_from_ce())
}

/// The streets, communities and grids of `areas`, in the order the grids come.
fn tree(areas: &[AreaRecord], by_code: &HashMap<&str, usize>) -> Vec<Street> {
    let parent = |i: usize| {
        areas[i]
            .parent_code
            .as_deref()
            .and_then(|c| by_code.get(c).copied())
    };
    let mut streets: Vec<Street> = Vec::new();
    let mut street_at: HashMap<Option<usize>, usize> = HashMap::new();
    let mut comm_at: HashMap<Option<usize>, (usize, usize)> = HashMap::new();
    for (i, a) in areas.iter().enumerate() {
        if a.level != Level::Grid {
            continue;
        }
        let c = parent(i);
        let (s, k) = if let Some(&at) = comm_at.get(&c) {
            at
        } else {
            let st = c.and_then(parent);
            let s = *street_at.entry(st).or_insert_with(|| {
                streets.push(Street {
                    area: st,
                    communities: Vec::new(),
                });
                streets.len() - 1
            });
            streets[s].communities.push(Community {
                area: c,
                grids: Vec::new(),
            });
            let at = (s, streets[s].communities.len() - 1);
            comm_at.insert(c, at);
            at
        };
        streets[s].communities[k].grids.push(i);
    }
    streets
}

struct Gen<'a> {
    areas: &'a [AreaRecord],
    by_code: HashMap<&'a str, usize>,
    pilots: HashSet<&'a str>,
    scale: f64,
    rng: ChaCha8Rng,
    out: Registers,
    ids: HashSet<u64>,
    phones: HashSet<u64>,
    credit: HashSet<String>,
    surname_cum: Vec<u32>,
    /// Per age, the day (from the common era) of the latest birth date of that age.
    latest: Vec<i32>,
    sizes: Vec<usize>,
    members: Vec<Member>,
}

impl<'a> Gen<'a> {
    fn new(areas: &'a [AreaRecord], opts: &'a RegisterOptions) -> Self {
        let by_code = areas
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.as_str(), i))
            .collect();
        let expected: usize = areas
            .iter()
            .filter(|a| a.level == Level::Grid)
            .map(|a| counts(a.households, a.population, opts.scale).1)
            .sum();
        let mut acc = 0;
        let surname_cum = SURNAME_WEIGHTS
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        let latest = (0..=MAX_AGE + 1)
            .map(|age| days_of(END.0 - age as i32, END.1, END.2))
            .collect();
        Gen {
            areas,
            by_code,
            pilots: opts.pilots.iter().map(String::as_str).collect(),
            scale: opts.scale,
            rng: ChaCha8Rng::seed_from_u64(opts.seed ^ 0x7265_6769_7374_6572),
            out: Registers::default(),
            ids: HashSet::with_capacity(expected),
            phones: HashSet::with_capacity(expected),
            credit: HashSet::new(),
            surname_cum,
            latest,
            sizes: Vec::new(),
            members: Vec::new(),
        }
    }

    fn run(mut self) -> Registers {
        let streets = tree(self.areas, &self.by_code);
        for st in &streets {
            let mut factories = Vec::new();
            for c in &st.communities {
                self.community(c, &mut factories);
            }
            self.street_places(st, &factories);
        }
        self.out
    }

    // ---- random helpers ----

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    /// `x` rounded up or down at random, so that the mean is `x`.
    fn rround(&mut self, x: f64) -> usize {
        let x = if x.is_finite() { x.max(0.0) } else { 0.0 };
        let f = x.floor();
        f as usize + usize::from(self.chance(x - f))
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    /// A value of `(lo, hi, weight)` bands: a band ∝ weight, then uniform in it.
    fn band(&mut self, bands: &[(u32, u32, u32)]) -> u32 {
        let total: u32 = bands.iter().map(|b| b.2).sum();
        let mut r = self.rng.random_range(0..total.max(1));
        for &(lo, hi, w) in bands {
            if r < w {
                return self.rng.random_range(lo..=hi);
            }
            r -= w;
        }
        bands.last().map_or(0, |b| b.0)
    }

    fn poisson(&mut self, lambda: f64) -> usize {
        let l = (-lambda.clamp(0.0, 30.0)).exp();
        let mut k = 0;
        let mut p = self.rng.random::<f64>();
        while p > l {
            k += 1;
            p *= self.rng.random::<f64>();
        }
        k
    }

    fn point(&mut self, geom: &MultiPolygon<f64>, b: [f64; 4]) -> [f64; 2] {
        if b.iter().all(|v| v.is_finite()) && b[0] < b[2] && b[1] < b[3] {
            for _ in 0..1000 {
                let x = b[0] + self.rng.random::<f64>() * (b[2] - b[0]);
                let y = b[1] + self.rng.random::<f64>() * (b[3] - b[1]);
                if inside(geom, x, y) {
                    return [x, y];
                }
            }
        }
        geom.interior_point().map_or_else(
            || {
                if b.iter().all(|v| v.is_finite()) {
                    [f64::midpoint(b[0], b[2]), f64::midpoint(b[1], b[3])]
                } else {
                    [0.0, 0.0]
                }
            },
            |p| [p.x(), p.y()],
        )
    }

    fn surname(&mut self) -> usize {
        let total = self.surname_cum.last().copied().unwrap_or(1);
        let r = self.rng.random_range(0..total);
        self.surname_cum
            .partition_point(|&c| c <= r)
            .min(SURNAMES.len() - 1)
    }

    fn name(&mut self, surname: usize, sex: Sex) -> String {
        let pool = match sex {
            Sex::Male => &MALE,
            Sex::Female => &FEMALE,
        };
        let mut s = String::with_capacity(12);
        s.push_str(SURNAMES[surname]);
        s.push(self.pick(pool));
        if self.chance(0.78) {
            s.push(self.pick(pool));
        }
        s
    }

    fn person(&mut self) -> String {
        let surname = self.surname();
        let sex = if self.chance(0.6) {
            Sex::Male
        } else {
            Sex::Female
        };
        self.name(surname, sex)
    }

    fn mobile(&mut self) -> String {
        loop {
            let prefix = self.pick(&MOBILE_PREFIXES);
            let n = prefix * 100_000_000 + self.rng.random_range(0..100_000_000u64);
            if self.phones.insert(n) {
                return n.to_string();
            }
        }
    }

    fn birth(&mut self, age: u32) -> NaiveDate {
        let age = age.min(MAX_AGE) as usize;
        let days = self
            .rng
            .random_range(self.latest[age + 1] + 1..=self.latest[age]);
        NaiveDate::from_num_days_from_ce_opt(days).unwrap_or_default()
    }

    /// A unique valid ID number, and the birth date it holds (another of the same age if
    /// every sequence of the first was taken).
    fn id_number(
        &mut self,
        region: [u8; 6],
        mut birth: NaiveDate,
        age: u32,
        sex: Sex,
    ) -> (IdNumber, NaiveDate) {
        let mut b = [b'0'; 18];
        b[..6].copy_from_slice(&region);
        let mut attempts = 0u32;
        loop {
            if attempts > 0 && attempts.is_multiple_of(200) {
                birth = self.birth(age);
            }
            attempts += 1;
            put_digits(&mut b[6..10], birth.year().max(0) as u32);
            put_digits(&mut b[10..12], birth.month());
            put_digits(&mut b[12..14], birth.day());
            let seq = match sex {
                Sex::Male => 2 * self.rng.random_range(0..500) + 1,
                Sex::Female => 2 * self.rng.random_range(1..500),
            };
            put_digits(&mut b[14..17], seq);
            let key = b[..17]
                .iter()
                .fold(0u64, |k, d| k * 10 + u64::from(d - b'0'));
            if !self.ids.insert(key) {
                continue;
            }
            b[17] = id_check_char(&b[..17]);
            if let Ok(s) = std::str::from_utf8(&b)
                && let Ok(id) = IdNumber::parse(s)
            {
                return (id, birth);
            }
        }
    }

    /// A unified social credit code (GB 32100) starting with `head` (91 enterprise,
    /// 92 individual business, 51 social organisation) and `region`; unique.
    fn credit_code(&mut self, head: [u8; 2], region: [u8; 6]) -> String {
        loop {
            let mut c = [b'0'; 18];
            c[..2].copy_from_slice(&head);
            c[2..8].copy_from_slice(&region);
            // the organisation code (GB 11714): 8 characters and a check character; newer
            // ones start with MA
            let modern = self.chance(0.7);
            for (i, x) in c[8..16].iter_mut().enumerate() {
                *x = match (modern, i) {
                    (true, 0) => b'M',
                    (true, 1) => b'A',
                    (true, _) => self.pick(CREDIT_CHARS),
                    (false, _) => b'0' + self.rng.random_range(0..10u8),
                };
            }
            c[16] = org_check(&c[8..16]);
            c[17] = credit_check(&c[..17]);
            let code: String = c.iter().map(|&x| char::from(x)).collect();
            if self.credit.insert(code.clone()) {
                return code;
            }
        }
    }

    fn brand(&mut self) -> String {
        let mut s = String::with_capacity(6);
        s.push(self.pick(&BRAND));
        s.push(self.pick(&BRAND));
        s
    }

    // ---- areas ----

    /// `i` and its ancestors, bottom up.
    fn lineage(&self, i: usize) -> Vec<usize> {
        let mut out = vec![i];
        let mut at = i;
        while out.len() < 8 {
            let Some(p) = self.areas[at]
                .parent_code
                .as_deref()
                .and_then(|c| self.by_code.get(c).copied())
            else {
                break;
            };
            out.push(p);
            at = p;
        }
        out
    }

    fn comm_ctx(&mut self, c: &Community) -> Comm<'a> {
        let areas = self.areas;
        let first = c.grids.first().copied().unwrap_or(0);
        let chain = c.area.map_or_else(Vec::new, |i| self.lineage(i));
        let find = |level: Level| chain.iter().copied().find(|&i| areas[i].level == level);
        let short = c
            .area
            .map_or_else(String::new, |i| short_community(&areas[i].name));
        let mut prefix: String = [Level::City, Level::District, Level::Street]
            .into_iter()
            .filter_map(find)
            .map(|i| areas[i].name.as_str())
            .collect();
        prefix.push_str(&short);
        let district = find(Level::District);
        let region = district
            .map(|i| areas[i].code.as_str())
            .into_iter()
            .chain([areas[first].code.as_str()])
            .filter(|code| code.len() >= 6 && code.starts_with("4415"))
            .find_map(region_of)
            .unwrap_or(*b"441500");
        let pilot = chain
            .iter()
            .any(|&i| self.pilots.contains(areas[i].code.as_str()));
        let urban = short.ends_with("社区");
        let code = match c.area {
            Some(i) => areas[i].code.as_str(),
            None => areas[first]
                .parent_code
                .as_deref()
                .unwrap_or(&areas[first].code),
        };
        let centre = c
            .grids
            .iter()
            .copied()
            .rev()
            .max_by_key(|&g| areas[g].households)
            .unwrap_or(first);
        let roads = self.roads(stem(&short), urban);
        Comm {
            code,
            short,
            prefix,
            district: district.map_or_else(String::new, |i| areas[i].name.clone()),
            region,
            pilot,
            urban,
            roads,
            centre,
            public: None,
            school: None,
            clinic: None,
        }
    }

    fn roads(&mut self, stem: &str, urban: bool) -> Vec<Road> {
        let n = if urban {
            self.rng.random_range(4..=8)
        } else {
            self.rng.random_range(3..=5)
        };
        let mut roads: Vec<Road> = Vec::with_capacity(n);
        while roads.len() < n {
            let mut name = String::with_capacity(16);
            if !urban && !stem.is_empty() && self.chance(0.6) {
                name.push_str(stem);
                name.push_str(self.pick(&RURAL_PARTS));
                name.push_str(self.pick(&RURAL_ROAD));
            } else if urban && !stem.is_empty() && roads.is_empty() && self.chance(0.5) {
                name.push_str(stem);
                name.push('路');
            } else {
                name.push_str(self.pick(&ROAD_ROOTS));
                name.push_str(if urban {
                    self.pick(&URBAN_ROAD)
                } else {
                    self.pick(&RURAL_ROAD)
                });
            }
            if roads.iter().any(|r| r.name == name) {
                name = format!("{}{}巷", self.pick(&ROAD_ROOTS), roads.len() + 1);
            }
            roads.push(Road { name, next: 0 });
        }
        roads
    }

    fn cell(&self, g: usize) -> Cell<'a> {
        let a = &self.areas[g];
        Cell {
            code: &a.code,
            geom: &a.geom,
            bbox: bbox(&a.geom),
        }
    }

    fn community(&mut self, c: &Community, factories: &mut Vec<Spot>) {
        if c.grids.is_empty() {
            return;
        }
        let mut ctx = self.comm_ctx(c);
        let school = (ctx.pilot || self.chance(0.5)).then(|| self.pick(&c.grids));
        let clinic = (ctx.pilot || self.chance(0.7)).then(|| self.pick(&c.grids));
        let mut hosts = Vec::with_capacity(3);
        for &g in &c.grids {
            hosts.clear();
            if g == ctx.centre {
                hosts.push(BuildingKind::Public);
            }
            if school == Some(g) {
                hosts.push(BuildingKind::School);
            }
            if clinic == Some(g) {
                hosts.push(BuildingKind::Clinic);
            }
            self.grid(&mut ctx, g, &hosts, factories);
        }
        self.service_places(&ctx);
        self.community_orgs(&ctx);
    }

    // ---- buildings, households, residents ----

    fn building(
        &mut self,
        ctx: &mut Comm,
        cell: &Cell,
        seq: &mut u32,
        kind: BuildingKind,
        floors: i16,
    ) -> Spot {
        *seq += 1;
        let p = self.point(cell.geom, cell.bbox);
        let r = self.rng.random_range(0..ctx.roads.len().max(1));
        let address = if let Some(road) = ctx.roads.get_mut(r) {
            road.next += self.rng.random_range(1..=3);
            format!("{}{}{}号", ctx.prefix, road.name, road.next)
        } else {
            format!("{}{}号", ctx.prefix, seq)
        };
        let id = self.out.buildings.len() as i64 + 1;
        self.out.buildings.push(BuildingRecord {
            id,
            code: format!("{}-B{:04}", cell.code, seq),
            address,
            kind,
            floors,
            lon: p[0],
            lat: p[1],
            outline: None,
            generated: true,
        });
        Spot {
            building: Some(id),
            p,
        }
    }

    fn residential_shape(&mut self, density: Density) -> (usize, i16) {
        match density {
            Density::Dense => {
                let floors = self.rng.random_range(6..=33i16);
                let cap = (f64::from(floors) * self.rng.random_range(0.5..1.2)).round();
                (cap.clamp(6.0, 30.0) as usize, floors)
            }
            Density::Town => (
                self.rng.random_range(2..=8),
                self.rng.random_range(3..=8i16),
            ),
            Density::Rural => (
                self.band(&[(1, 1, 6), (2, 2, 3), (3, 3, 1)]) as usize,
                self.band(&[(1, 1, 20), (2, 2, 35), (3, 3, 30), (4, 4, 15)]) as i16,
            ),
        }
    }

    /// Fills `self.sizes` with `h` household sizes of at least 1 adding up to `p`.
    fn household_sizes(&mut self, h: usize, p: usize) {
        self.sizes.clear();
        if h == 0 {
            return;
        }
        let lambda = p as f64 / h as f64 - 1.0;
        let mut sum = 0;
        for _ in 0..h {
            let s = 1 + self.poisson(lambda);
            sum += s;
            self.sizes.push(s);
        }
        while sum < p {
            let i = self.rng.random_range(0..h);
            self.sizes[i] += 1;
            sum += 1;
        }
        if sum > p {
            let mut big: Vec<usize> = (0..h).filter(|&i| self.sizes[i] > 1).collect();
            while sum > p && !big.is_empty() {
                let j = self.rng.random_range(0..big.len());
                let i = big[j];
                self.sizes[i] -= 1;
                sum -= 1;
                if self.sizes[i] == 1 {
                    big.swap_remove(j);
                }
            }
        }
    }

    #[allow(clippy::too_many_lines)] // one pass over a grid reads best in its order
    fn grid(
        &mut self,
        ctx: &mut Comm,
        g: usize,
        hosts: &[BuildingKind],
        factories: &mut Vec<Spot>,
    ) {
        let areas = self.areas;
        let a = &areas[g];
        let cell = self.cell(g);
        let density = density(a, cell.bbox);
        let pilot = ctx.pilot || self.pilots.contains(a.code.as_str());
        let (h, p) = counts(a.households, a.population, self.scale);
        let mut seq = 0u32;
        self.household_sizes(h, p);
        let first_home = self.out.buildings.len() as i64 + 1;
        let mut k = 0;
        while k < h {
            let (cap, floors) = self.residential_shape(density);
            let n = cap.min(h - k);
            let spot = self.building(ctx, &cell, &mut seq, BuildingKind::Residential, floors);
            if density == Density::Dense && n >= 6 && self.chance(if pilot { 0.08 } else { 0.04 }) {
                let name = format!("汕尾市{}物业管理有限公司", self.brand());
                let code = self.credit_code(*b"91", ctx.region);
                self.org(OrgKind::PropertyCompany, name, code, spot);
            }
            let bcode = self
                .out
                .buildings
                .last()
                .map(|b| b.code.clone())
                .unwrap_or_default();
            for j in 0..n {
                let door = door(j, cap, floors);
                let size = self.sizes[k + j];
                let code = format!("{bcode}-{door}");
                let building_id = spot.building.unwrap_or(0);
                self.household(ctx, building_id, code, door, size, density);
            }
            k += n;
        }
        let last_home = self.out.buildings.len() as i64;
        let hf = h as f64;
        let (shop, factory, other) = match density {
            Density::Dense => (1.0 / 25.0, 1.0 / 400.0, 1.0 / 250.0),
            Density::Town => (1.0 / 20.0, 1.0 / 150.0, 1.0 / 120.0),
            Density::Rural => (1.0 / 60.0, 1.0 / 250.0, 1.0 / 80.0),
        };
        let boost = if pilot { 2.0 } else { 1.0 };
        for _ in 0..self.rround(hf * shop * boost) {
            let floors = if density == Density::Dense {
                self.rng.random_range(1..=4)
            } else {
                self.rng.random_range(1..=3)
            };
            let spot = self.building(ctx, &cell, &mut seq, BuildingKind::Shop, floors);
            if self.chance(0.85) {
                self.shop_org(ctx, spot);
            }
        }
        for _ in 0..self.rround(hf * factory) {
            let floors = self.rng.random_range(1..=4);
            let spot = self.building(ctx, &cell, &mut seq, BuildingKind::Factory, floors);
            let name = if self.chance(0.5) {
                format!("汕尾市{}{}有限公司", self.brand(), self.pick(&INDUSTRIES))
            } else {
                format!(
                    "{}{}{}厂",
                    ctx.district,
                    self.brand(),
                    self.pick(&INDUSTRIES)
                )
            };
            let code = self.credit_code(*b"91", ctx.region);
            self.org(OrgKind::Enterprise, name, code, spot);
            factories.push(spot);
        }
        for _ in 0..self.rround(hf * other) {
            let floors = self.rng.random_range(1..=2);
            self.building(ctx, &cell, &mut seq, BuildingKind::Other, floors);
        }
        for &kind in hosts {
            let floors = match kind {
                BuildingKind::School => self.rng.random_range(3..=6),
                BuildingKind::Public => self.rng.random_range(2..=5),
                _ => self.rng.random_range(1..=4),
            };
            let spot = self.building(ctx, &cell, &mut seq, kind, floors);
            match kind {
                BuildingKind::Public => ctx.public = Some(spot),
                BuildingKind::School => ctx.school = Some(spot),
                BuildingKind::Clinic => ctx.clinic = Some(spot),
                _ => {}
            }
        }
        let homes = (first_home <= last_home).then_some((first_home, last_home));
        self.grid_places(ctx, &cell, density, pilot, h, homes);
    }

    fn household(
        &mut self,
        ctx: &Comm,
        building_id: i64,
        code: String,
        door: String,
        size: usize,
        density: Density,
    ) {
        let id = self.out.households.len() as i64 + 1;
        self.out.households.push(HouseholdRecord {
            id,
            code,
            building_id,
            door,
            generated: true,
        });
        let floating = self.chance(match density {
            Density::Dense => 0.22,
            Density::Town => 0.12,
            Density::Rural => 0.05,
        });
        let (registration, region) = if floating {
            (Registration::Floating, self.origin(ctx.region))
        } else {
            (Registration::Registered, ctx.region)
        };
        let mut tags = Tags::default();
        if size == 1 && self.chance(0.4) {
            tags = tags.with(CareTag::ElderlyAlone);
        }
        if density != Density::Dense && self.chance(0.08) {
            tags = tags.with(CareTag::LeftBehindChild);
        }
        if self.chance(0.02) {
            tags = tags.with(CareTag::LowIncome);
        }
        let house = House {
            id,
            registration,
            region,
            tags,
        };
        self.compose(size);
        for i in 0..self.members.len() {
            let m = self.members[i];
            self.resident(ctx, &house, m);
        }
    }

    /// The region code of someone registered elsewhere than `own`.
    fn origin(&mut self, own: [u8; 6]) -> [u8; 6] {
        let u = self.rng.random::<f64>();
        if u < 0.35 {
            return self.origin_shanwei(own);
        }
        let code = if u < 0.75 {
            self.pick(&GUANGDONG)
        } else {
            self.pick(&PROVINCES)
        };
        region_of(code).unwrap_or(own)
    }

    /// Fills `self.members` with a household of `n` people.
    fn compose(&mut self, n: usize) {
        self.members.clear();
        if n == 1 {
            let age = self.band(&[
                (18, 29, 22),
                (30, 44, 18),
                (45, 64, 18),
                (65, 79, 28),
                (80, 95, 14),
            ]);
            let male = if age >= 65 { 0.4 } else { 0.62 };
            let sex = if self.chance(male) {
                Sex::Male
            } else {
                Sex::Female
            };
            let surname = self.surname();
            self.members.push(Member { age, sex, surname });
            return;
        }
        let a = self.band(&[
            (22, 29, 10),
            (30, 39, 22),
            (40, 49, 24),
            (50, 59, 20),
            (60, 69, 14),
            (70, 84, 8),
            (85, 95, 2),
        ]);
        let head_male = self.chance(0.8);
        let head_sex = if head_male { Sex::Male } else { Sex::Female };
        let head_surname = self.surname();
        self.members.push(Member {
            age: a,
            sex: head_sex,
            surname: head_surname,
        });
        let mut family = head_surname;
        if self.chance(if n == 2 { 0.8 } else { 0.9 }) {
            let surname = self.surname();
            let age = if head_male {
                a as i32 + self.rng.random_range(-6..=3)
            } else {
                a as i32 + self.rng.random_range(-3..=6)
            };
            if !head_male {
                family = surname;
            }
            let sex = if head_male { Sex::Female } else { Sex::Male };
            self.members.push(Member {
                age: age.clamp(20, MAX_AGE as i32) as u32,
                sex,
                surname,
            });
        }
        let (mut children, mut parents) = (0, 0);
        while self.members.len() < n {
            let u = self.rng.random::<f64>();
            let relation = if a < 40 {
                if children == 0 || (u < 0.75 && children < 3) {
                    Relation::Child
                } else if parents < 2 {
                    Relation::Parent
                } else {
                    Relation::Other
                }
            } else if a < 60 {
                if children == 0 || (u < 0.6 && children < 3) {
                    Relation::Child
                } else if u < 0.8 && parents < 2 {
                    Relation::Parent
                } else if a >= 45 {
                    Relation::Grandchild
                } else {
                    Relation::Other
                }
            } else if children == 0 || (u < 0.35 && children < 3) {
                Relation::Child
            } else {
                Relation::Grandchild
            };
            let member = self.relative(relation, a, head_surname, family);
            match relation {
                Relation::Child => children += 1,
                Relation::Parent => parents += 1,
                _ => {}
            }
            self.members.push(member);
        }
    }

    fn relative(
        &mut self,
        relation: Relation,
        head_age: u32,
        head_surname: usize,
        family: usize,
    ) -> Member {
        let a = head_age;
        let age = match relation {
            Relation::Child if a < 40 => self.rng.random_range(0..=(a - 20).min(17)),
            Relation::Child => self.rng.random_range(a.saturating_sub(38)..=a - 20),
            Relation::Parent => (a + self.rng.random_range(22..=32)).min(MAX_AGE),
            Relation::Grandchild => {
                let hi = if a >= 60 { 25 } else { 17 };
                self.rng.random_range(0..=a.saturating_sub(42).min(hi))
            }
            Relation::Other => self.rng.random_range(16..=70),
        };
        let male = match relation {
            Relation::Child | Relation::Grandchild => 0.52,
            Relation::Parent => 0.45,
            Relation::Other => 0.5,
        };
        let sex = if self.chance(male) {
            Sex::Male
        } else {
            Sex::Female
        };
        let surname = match relation {
            Relation::Child | Relation::Grandchild if self.chance(0.96) => family,
            Relation::Parent if sex == Sex::Male => head_surname,
            _ => self.surname(),
        };
        Member { age, sex, surname }
    }

    fn resident(&mut self, ctx: &Comm, house: &House, m: Member) {
        let (registration, region) = match house.registration {
            Registration::Floating => (
                Registration::Floating,
                if self.chance(0.85) {
                    house.region
                } else {
                    self.origin(ctx.region)
                },
            ),
            Registration::Registered if self.chance(0.02) => {
                (Registration::Floating, self.origin(ctx.region))
            }
            Registration::Registered => (
                Registration::Registered,
                if self.chance(0.96) {
                    house.region
                } else {
                    self.origin_shanwei(house.region)
                },
            ),
        };
        let birth = self.birth(m.age);
        let (id_number, birth_date) = self.id_number(region, birth, m.age, m.sex);
        let name = self.name(m.surname, m.sex);
        let phone_rate = match m.age {
            0..12 => 0.0,
            12..18 => 0.72,
            18..70 => 0.9,
            _ => 0.55,
        };
        let phone = self.chance(phone_rate).then(|| self.mobile());
        let mut tags = Tags::default();
        if m.age >= 80 {
            tags = tags.with(CareTag::VeryOld);
        }
        if m.age >= 65 && house.tags.has(CareTag::ElderlyAlone) {
            tags = tags.with(CareTag::ElderlyAlone);
        }
        if m.age < 16 && house.tags.has(CareTag::LeftBehindChild) {
            tags = tags.with(CareTag::LeftBehindChild);
        }
        if house.tags.has(CareTag::LowIncome) {
            tags = tags.with(CareTag::LowIncome);
        }
        if self.chance(if m.age >= 60 { 0.09 } else { 0.025 }) {
            tags = tags.with(CareTag::Disabled);
        }
        if m.sex == Sex::Male && (20..=70).contains(&m.age) && self.chance(0.02) {
            tags = tags.with(CareTag::Veteran);
        }
        if m.age >= 18 {
            for (tag, p) in [
                (CareTag::CommunityCorrection, 0.0005),
                (CareTag::Released, 0.001),
                (CareTag::MentalDisorder, 0.004),
            ] {
                if self.chance(p) {
                    tags = tags.with(tag);
                }
            }
        }
        let id = self.out.residents.len() as i64 + 1;
        self.out.residents.push(NewResident {
            record: ResidentRecord {
                id,
                household_id: house.id,
                name,
                birth_date,
                sex: m.sex,
                registration,
                tags,
                generated: true,
            },
            id_number,
            phone,
        });
    }

    /// A Shanwei district other than `own`.
    fn origin_shanwei(&mut self, own: [u8; 6]) -> [u8; 6] {
        let others = || SHANWEI.iter().filter(|c| c.as_bytes() != own);
        let j = self.rng.random_range(0..others().count().max(1));
        others().nth(j).and_then(|c| region_of(c)).unwrap_or(own)
    }

    // ---- places and organisations ----

    fn place(
        &mut self,
        owner: &str,
        seq: &mut u32,
        kind: PlaceType,
        name: String,
        at: Spot,
    ) -> usize {
        *seq += 1;
        let id = self.out.places.len() as i64 + 1;
        self.out.places.push(PlaceRecord {
            id,
            code: format!("{owner}-P{seq:03}"),
            name,
            kind,
            risk_level: None,
            state: None,
            building_id: at.building,
            lon: at.p[0],
            lat: at.p[1],
            generated: true,
        });
        self.out.places.len() - 1
    }

    fn risk(
        &mut self,
        owner: &str,
        seq: &mut u32,
        kind: PlaceType,
        name: String,
        at: Spot,
        levels: &[(u32, u32, u32)],
    ) {
        let level = self.band(levels) as i16;
        let i = self.place(owner, seq, kind, name, at);
        self.out.places[i].risk_level = Some(level);
    }

    fn road(&mut self, ctx: &Comm) -> String {
        let i = self.rng.random_range(0..ctx.roads.len().max(1));
        ctx.roads
            .get(i)
            .map_or_else(String::new, |r| r.name.clone())
    }

    fn grid_places(
        &mut self,
        ctx: &Comm,
        cell: &Cell,
        density: Density,
        pilot: bool,
        households: usize,
        homes: Option<(i64, i64)>,
    ) {
        use PlaceType as T;
        let mut seq = 0u32;
        let hf = households as f64;
        let rates: [(PlaceType, [f64; 3]); 4] = [
            (T::Hydrant, [80.0, 100.0, 150.0]),
            (T::Camera, [40.0, 60.0, 100.0]),
            (T::StreetLamp, [25.0, 30.0, 40.0]),
            (T::Manhole, [25.0, 40.0, 80.0]),
        ];
        let column = match density {
            Density::Dense => 0,
            Density::Town => 1,
            Density::Rural => 2,
        };
        for (kind, per) in rates {
            let mut n = self.rround(hf / per[column] * if pilot { 2.0 } else { 1.0 });
            if pilot {
                n = n.max(1);
            }
            for i in 1..=n {
                let road = self.road(ctx);
                let p = self.point(cell.geom, cell.bbox);
                let u = self.rng.random::<f64>();
                let state = if u < 0.9 {
                    ThingState::Normal
                } else if u < 0.97 {
                    ThingState::Damaged
                } else {
                    ThingState::Missing
                };
                let name = format!("{road}{}{i}号", kind.label());
                let at = Spot { building: None, p };
                let k = self.place(cell.code, &mut seq, kind, name, at);
                self.out.places[k].state = Some(state);
            }
        }
        let (site, flood, old) = match density {
            Density::Dense => (0.15, 0.12, 0.08),
            Density::Town => (0.06, 0.12, 0.15),
            Density::Rural => (0.01, 0.10, 0.12),
        };
        if self.chance(site) {
            let name = format!("{}{}工地", self.road(ctx), self.pick(&PROJECTS));
            let p = self.point(cell.geom, cell.bbox);
            let at = Spot { building: None, p };
            self.risk(
                cell.code,
                &mut seq,
                T::ConstructionSite,
                name,
                at,
                &[(1, 1, 4), (2, 2, 4), (3, 3, 2)],
            );
        }
        if self.chance(flood) {
            let name = format!("{}{}易涝点", self.road(ctx), self.pick(&LOW_SPOTS));
            let p = self.point(cell.geom, cell.bbox);
            let at = Spot { building: None, p };
            self.risk(
                cell.code,
                &mut seq,
                T::FloodProne,
                name,
                at,
                &[(1, 1, 50), (2, 2, 35), (3, 3, 15)],
            );
        }
        if let Some((lo, hi)) = homes
            && self.chance(old)
        {
            let id = self.rng.random_range(lo..=hi);
            if let Some(b) = self.out.buildings.get((id - 1) as usize) {
                let name = format!("{}危旧房", b.address);
                let at = Spot {
                    building: Some(id),
                    p: [b.lon, b.lat],
                };
                self.risk(
                    cell.code,
                    &mut seq,
                    T::OldBuilding,
                    name,
                    at,
                    &[(1, 1, 30), (2, 2, 45), (3, 3, 20), (4, 4, 5)],
                );
            }
        }
    }

    fn service_places(&mut self, ctx: &Comm) {
        use PlaceType as T;
        let Some(hall) = ctx.public else {
            return;
        };
        let mut seq = 0u32;
        let short = &ctx.short;
        self.place(
            ctx.code,
            &mut seq,
            T::PartyServiceCentre,
            format!("{short}党群服务中心"),
            hall,
        );
        let station = if ctx.urban { 0.9 } else { 0.6 };
        for kind in [
            T::PublicServiceStation,
            T::VolunteerStation,
            T::WomenChildrenStation,
            T::SocialWorkStation,
        ] {
            if ctx.pilot || self.chance(station) {
                self.place(
                    ctx.code,
                    &mut seq,
                    kind,
                    format!("{short}{}", kind.label()),
                    hall,
                );
            }
        }
        if ctx.pilot || self.chance(0.6) {
            self.place(
                ctx.code,
                &mut seq,
                T::LegalService,
                format!("{short}法律服务点"),
                hall,
            );
        }
        if ctx.pilot || self.chance(0.45) {
            let at = if self.chance(0.5) {
                hall
            } else {
                let cell = self.cell(ctx.centre);
                Spot {
                    building: None,
                    p: self.point(cell.geom, cell.bbox),
                }
            };
            self.place(
                ctx.code,
                &mut seq,
                T::ElderCanteen,
                format!("{short}长者饭堂"),
                at,
            );
        }
        if let Some(clinic) = ctx.clinic {
            self.place(
                ctx.code,
                &mut seq,
                T::Clinic,
                format!("{short}卫生站"),
                clinic,
            );
        }
        if let Some(school) = ctx.school {
            let kind = self.band(&[(0, 0, 6), (1, 1, 3), (2, 2, 1)]);
            let name = format!(
                "{}{}",
                stem(short),
                ["小学", "幼儿园", "中学"][kind as usize]
            );
            self.place(ctx.code, &mut seq, T::School, name, school);
        }
    }

    fn org(&mut self, kind: OrgKind, name: String, code: String, at: Spot) {
        let contact = self.person();
        let phone = self.mobile();
        let id = self.out.organisations.len() as i64 + 1;
        self.out.organisations.push(NewOrganisation {
            record: OrganisationRecord {
                id,
                code,
                name,
                kind,
                building_id: at.building,
                contact_name: Some(contact),
                lon: at.p[0],
                lat: at.p[1],
                generated: true,
            },
            contact_phone: Some(phone),
        });
    }

    fn shop_org(&mut self, ctx: &Comm, at: Spot) {
        let goods = self.pick(&SHOP_GOODS);
        let u = self.rng.random::<f64>();
        let name = if u < 0.5 {
            let s = self.surname();
            format!("{}记{goods}", SURNAMES[s])
        } else if u < 0.75 {
            format!("{}{goods}", self.road(ctx))
        } else {
            format!("{}{goods}", stem(&ctx.short))
        };
        let code = self.credit_code(*b"92", ctx.region);
        self.org(OrgKind::Shop, name, code, at);
    }

    fn community_orgs(&mut self, ctx: &Comm) {
        let Some(hall) = ctx.public else {
            return;
        };
        let name = format!("中共{}支部委员会", ctx.short);
        self.org(
            OrgKind::PartyBranch,
            name,
            format!("{}-O001", ctx.code),
            hall,
        );
        let chances = if ctx.pilot { 2 } else { 1 };
        let mut used: Vec<&str> = Vec::new();
        for _ in 0..chances {
            if self.chance(0.3) {
                let kind = self.pick(&SOCIAL);
                if used.contains(&kind) {
                    continue;
                }
                used.push(kind);
                let code = self.credit_code(*b"51", ctx.region);
                self.org(
                    OrgKind::SocialOrganisation,
                    format!("{}{kind}", ctx.short),
                    code,
                    hall,
                );
            }
        }
    }

    fn street_places(&mut self, st: &Street, factories: &[Spot]) {
        use PlaceType as T;
        let grids: Vec<usize> = st
            .communities
            .iter()
            .flat_map(|c| c.grids.iter().copied())
            .collect();
        let Some(&first) = grids.first() else {
            return;
        };
        let areas = self.areas;
        let (owner, short) = match st.area {
            Some(i) => (areas[i].code.clone(), stem(&areas[i].name).to_owned()),
            None => (format!("{}S", areas[first].code), String::new()),
        };
        let mut seq = 0u32;
        let fuel = 1
            + usize::from(self.chance(0.6))
            + usize::from(self.chance(0.3))
            + usize::from(self.chance(0.1));
        let brand = self.pick(&FUEL_BRANDS);
        for i in 0..fuel {
            let g = self.pick(&grids);
            let cell = self.cell(g);
            let p = self.point(cell.geom, cell.bbox);
            let name = format!("{brand}{short}{}加油站", ORDINALS[i.min(3)]);
            let at = Spot { building: None, p };
            self.risk(
                &owner,
                &mut seq,
                T::FuelStation,
                name,
                at,
                &[(1, 1, 10), (2, 2, 55), (3, 3, 30), (4, 4, 5)],
            );
        }
        if self.chance(0.25) {
            let at = if !factories.is_empty() && self.chance(0.7) {
                self.pick(factories)
            } else {
                let g = self.pick(&grids);
                let cell = self.cell(g);
                Spot {
                    building: None,
                    p: self.point(cell.geom, cell.bbox),
                }
            };
            let name = format!("{short}{}化工危化品仓库", self.brand());
            self.risk(
                &owner,
                &mut seq,
                T::ChemicalStore,
                name,
                at,
                &[(3, 3, 6), (4, 4, 4)],
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use geo_types::{LineString, Polygon};
    use minqing_model::register::{PlaceClass, age_on, check_phone};
    use std::time::Instant;

    fn square(x: f64, y: f64, d: f64) -> MultiPolygon<f64> {
        let ring = LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]);
        MultiPolygon(vec![Polygon::new(ring, vec![])])
    }

    fn area(
        code: &str,
        name: &str,
        level: Level,
        parent: Option<&str>,
        households: i32,
        geom: MultiPolygon<f64>,
    ) -> AreaRecord {
        AreaRecord {
            code: code.into(),
            name: name.into(),
            name_en: None,
            level,
            parent_code: parent.map(Into::into),
            households,
            population: households * 16 / 5,
            workers: vec![],
            generated: true,
            source: "test".into(),
            geom,
        }
    }

    const DENSE_COMM: &str = "441502003005";
    const VILLAGE: &str = "441502003201";

    /// 城区 / 凤山街道 / 凤翔社区 (two dense grids) and 布金村 (a town grid and a rural one).
    fn small() -> Vec<AreaRecord> {
        let d = 0.004; // ≈ 0.18 km²: 400 households are dense
        vec![
            area(
                "441502",
                "城区",
                Level::District,
                None,
                0,
                square(115.3, 22.7, 0.2),
            ),
            area(
                "441502003",
                "凤山街道",
                Level::Street,
                Some("441502"),
                0,
                square(115.3, 22.7, 0.2),
            ),
            area(
                DENSE_COMM,
                "凤翔社区居委会",
                Level::Community,
                Some("441502003"),
                0,
                square(115.3, 22.7, 0.008),
            ),
            area(
                VILLAGE,
                "布金村民委员会",
                Level::Community,
                Some("441502003"),
                0,
                square(115.35, 22.7, 0.05),
            ),
            area(
                "441502003005001",
                "凤翔社区居委会第1网格",
                Level::Grid,
                Some(DENSE_COMM),
                400,
                square(115.3, 22.7, d),
            ),
            area(
                "441502003005002",
                "凤翔社区居委会第2网格",
                Level::Grid,
                Some(DENSE_COMM),
                350,
                square(115.3 + d, 22.7, d),
            ),
            area(
                "441502003201001",
                "布金村民委员会第1网格",
                Level::Grid,
                Some(VILLAGE),
                450,
                square(115.35, 22.7, 0.01),
            ),
            area(
                "441502003201002",
                "布金村民委员会第2网格",
                Level::Grid,
                Some(VILLAGE),
                300,
                square(115.36, 22.7, 0.03),
            ),
        ]
    }

    /// `n` communities of 2 dense, 2 town and 2 rural grids of 1,000 households each.
    fn large(n: usize) -> Vec<AreaRecord> {
        let mut v = vec![
            area(
                "441521",
                "海丰县",
                Level::District,
                None,
                0,
                square(115.0, 22.0, 1.0),
            ),
            area(
                "441521100",
                "海城镇",
                Level::Street,
                Some("441521"),
                0,
                square(115.0, 22.0, 1.0),
            ),
        ];
        for c in 0..n {
            let code = format!("441521100{:03}", c + 1);
            let x = 115.0 + 0.1 * c as f64;
            v.push(area(
                &code,
                &format!("第{c}社区居委会"),
                Level::Community,
                Some("441521100"),
                0,
                square(x, 22.0, 0.1),
            ));
            for (g, side) in [0.005, 0.005, 0.015, 0.015, 0.05, 0.05]
                .into_iter()
                .enumerate()
            {
                let y = 22.0 + 0.06 * (g / 2) as f64;
                let gx = x + if g % 2 == 1 { 0.05 } else { 0.0 };
                v.push(area(
                    &format!("{code}{:03}", g + 1),
                    "网格",
                    Level::Grid,
                    Some(&code),
                    1000,
                    square(gx, y, side),
                ));
            }
        }
        v
    }

    fn opts(scale: f64) -> RegisterOptions {
        RegisterOptions {
            seed: 11,
            scale,
            pilots: vec![],
        }
    }

    /// The grid code of each building id (index id − 1).
    fn building_grids(r: &Registers) -> Vec<&str> {
        r.buildings
            .iter()
            .map(|b| b.code.split("-B").next().unwrap())
            .collect()
    }

    #[test]
    fn households_and_residents_add_up_per_grid() {
        let areas = small();
        for scale in [1.0, 0.5, 0.02, 0.0] {
            let r = registers(&areas, &opts(scale));
            let grid_of = building_grids(&r);
            let mut hh: HashMap<&str, usize> = HashMap::new();
            let mut people: HashMap<&str, usize> = HashMap::new();
            let mut per_household = vec![0usize; r.households.len()];
            for (i, h) in r.households.iter().enumerate() {
                assert_eq!(h.id, i as i64 + 1);
                *hh.entry(grid_of[h.building_id as usize - 1]).or_default() += 1;
                assert_eq!(
                    r.buildings[h.building_id as usize - 1].kind,
                    BuildingKind::Residential
                );
            }
            for (i, p) in r.residents.iter().enumerate() {
                assert_eq!(p.record.id, i as i64 + 1);
                let h = &r.households[p.record.household_id as usize - 1];
                *people
                    .entry(grid_of[h.building_id as usize - 1])
                    .or_default() += 1;
                per_household[h.id as usize - 1] += 1;
            }
            assert!(per_household.iter().all(|&n| n >= 1));
            for g in areas.iter().filter(|a| a.level == Level::Grid) {
                let (h, p) = counts(g.households, g.population, scale);
                assert!(h >= 1 && p >= h);
                if scale > 0.0 && (scale * f64::from(g.population)).round() as usize >= h {
                    assert_eq!(p, (scale * f64::from(g.population)).round() as usize);
                }
                assert_eq!(hh.get(g.code.as_str()).copied().unwrap_or(0), h, "{scale}");
                assert_eq!(
                    people.get(g.code.as_str()).copied().unwrap_or(0),
                    p,
                    "{scale}"
                );
            }
        }
        assert_eq!(counts(0, 10, 1.0), (0, 0));
        assert_eq!(counts(3, 9, 0.02), (1, 1));
        assert_eq!(counts(300, 960, 0.5), (150, 480));
    }

    #[test]
    fn records_lie_in_their_areas() {
        let areas = small();
        let r = registers(&areas, &opts(1.0));
        let geom: HashMap<&str, &MultiPolygon<f64>> =
            areas.iter().map(|a| (a.code.as_str(), &a.geom)).collect();
        for (i, b) in r.buildings.iter().enumerate() {
            assert_eq!(b.id, i as i64 + 1);
            let g = b.code.split("-B").next().unwrap();
            assert!(inside(geom[g], b.lon, b.lat), "{}", b.code);
            assert!(b.generated && b.outline.is_none());
            assert!(b.address.starts_with("城区凤山街道"), "{}", b.address);
            assert!(b.address.ends_with('号'));
        }
        let kinds: HashSet<BuildingKind> = r.buildings.iter().map(|b| b.kind).collect();
        for k in [
            BuildingKind::Residential,
            BuildingKind::Shop,
            BuildingKind::Public,
        ] {
            assert!(kinds.contains(&k), "{k:?}");
        }
        // dense grids have tall buildings, the rural one low houses
        for b in r
            .buildings
            .iter()
            .filter(|b| b.kind == BuildingKind::Residential)
        {
            if b.code.starts_with(DENSE_COMM) {
                assert!((6..=33).contains(&b.floors), "{}", b.floors);
            } else if b.code.starts_with("441502003201002") {
                assert!((1..=4).contains(&b.floors));
            }
        }
        let codes: HashSet<&str> = r.places.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes.len(), r.places.len());
        for (i, p) in r.places.iter().enumerate() {
            assert_eq!(p.id, i as i64 + 1);
            let owner = p.code.split("-P").next().unwrap();
            assert!(inside(geom[owner], p.lon, p.lat), "{}", p.code);
            if let Some(b) = p.building_id {
                let b = &r.buildings[b as usize - 1];
                assert_eq!((b.lon, b.lat), (p.lon, p.lat));
            }
            match p.kind.class() {
                PlaceClass::Risk => {
                    assert!(matches!(p.risk_level, Some(1..=4)) && p.state.is_none());
                }
                PlaceClass::Thing => assert!(p.state.is_some() && p.risk_level.is_none()),
                PlaceClass::Service => assert!(p.state.is_none() && p.risk_level.is_none()),
            }
        }
        assert!(r.places.iter().any(|p| p.name == "凤翔社区党群服务中心"));
        assert!(r.places.iter().any(|p| p.name == "布金村党群服务中心"));
        let org_codes: HashSet<&str> = r
            .organisations
            .iter()
            .map(|o| o.record.code.as_str())
            .collect();
        assert_eq!(org_codes.len(), r.organisations.len());
        for (i, o) in r.organisations.iter().enumerate() {
            assert_eq!(o.record.id, i as i64 + 1);
            let b = &r.buildings[o.record.building_id.unwrap() as usize - 1];
            assert_eq!((b.lon, b.lat), (o.record.lon, o.record.lat));
            if o.record.kind == OrgKind::PartyBranch {
                assert!(o.record.code.ends_with("-O001"));
            } else {
                let c = o.record.code.as_bytes();
                assert_eq!(c.len(), 18);
                assert_eq!(org_check(&c[8..16]), c[16]);
                assert_eq!(credit_check(&c[..17]), c[17]);
            }
        }
        let branches = r
            .organisations
            .iter()
            .filter(|o| o.record.kind == OrgKind::PartyBranch)
            .count();
        assert_eq!(branches, 2);
    }

    #[test]
    fn id_numbers_and_phones_are_valid_and_unique() {
        let r = registers(&small(), &opts(1.0));
        let end = NaiveDate::from_ymd_opt(END.0, END.1, END.2).unwrap();
        let mut ids = HashSet::new();
        let mut phones = HashSet::new();
        for p in &r.residents {
            let id = IdNumber::parse(p.id_number.expose()).unwrap();
            assert_eq!(id.birth_date(), Some(p.record.birth_date));
            assert_eq!(id.sex(), p.record.sex);
            assert!(ids.insert(id.expose().to_owned()));
            assert!(age_on(p.record.birth_date, end) <= MAX_AGE);
            if p.record.registration == Registration::Registered {
                assert!(id.expose().starts_with("4415"), "{}", id.expose());
            }
            if let Some(ph) = &p.phone {
                assert_eq!(&check_phone(ph).unwrap(), ph);
                assert_eq!(ph.len(), 11);
                assert!(phones.insert(ph.clone()));
                assert!(age_on(p.record.birth_date, end) >= 12);
            }
            let name = p.record.name.chars().count();
            assert!((2..=4).contains(&name), "{}", p.record.name);
            assert!(p.record.generated);
        }
        for o in &r.organisations {
            let ph = o.contact_phone.as_ref().unwrap();
            assert_eq!(&check_phone(ph).unwrap(), ph);
            assert!(phones.insert(ph.clone()));
            assert!(o.record.contact_name.is_some());
        }
        let own = r
            .residents
            .iter()
            .filter(|p| p.id_number.expose().starts_with("441502"))
            .count();
        assert!(own * 10 > r.residents.len() * 7, "{own}");
    }

    #[test]
    fn same_seed_same_registers() {
        let areas = small();
        let a = registers(&areas, &opts(0.3));
        let b = registers(&areas, &opts(0.3));
        let c = registers(
            &areas,
            &RegisterOptions {
                seed: 12,
                ..opts(0.3)
            },
        );
        assert_eq!(a.buildings, b.buildings);
        assert_eq!(a.places, b.places);
        assert_eq!(a.households, b.households);
        let people = |r: &Registers| {
            r.residents
                .iter()
                .map(|p| {
                    (
                        p.record.clone(),
                        p.id_number.expose().to_owned(),
                        p.phone.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let orgs = |r: &Registers| {
            r.organisations
                .iter()
                .map(|o| (o.record.clone(), o.contact_phone.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(people(&a), people(&b));
        assert_eq!(orgs(&a), orgs(&b));
        assert_ne!(people(&a), people(&c));
        assert_eq!(a.residents.len(), c.residents.len());
    }

    #[test]
    fn pilots_get_every_service_place_and_more_things() {
        let areas = small();
        let pilots = RegisterOptions {
            pilots: vec![DENSE_COMM.into(), VILLAGE.into()],
            ..opts(0.02)
        };
        let r = registers(&areas, &pilots);
        for comm in [DENSE_COMM, VILLAGE] {
            let kinds: HashSet<PlaceType> = r
                .places
                .iter()
                .filter(|p| p.code.starts_with(&format!("{comm}-P")))
                .map(|p| p.kind)
                .collect();
            for k in PlaceType::ALL
                .iter()
                .filter(|k| k.class() == PlaceClass::Service)
            {
                assert!(kinds.contains(k), "{comm} lacks {k:?}");
            }
        }
        for g in areas.iter().filter(|a| a.level == Level::Grid) {
            for k in [
                PlaceType::Hydrant,
                PlaceType::Camera,
                PlaceType::StreetLamp,
                PlaceType::Manhole,
            ] {
                assert!(
                    r.places
                        .iter()
                        .any(|p| p.kind == k && p.code.starts_with(&format!("{}-P", g.code))),
                    "{} lacks {k:?}",
                    g.code
                );
            }
        }
        // a pilot township: its villages count as pilots
        let town = RegisterOptions {
            pilots: vec!["441502003".into()],
            ..opts(0.02)
        };
        let t = registers(&areas, &town);
        let canteens = t
            .places
            .iter()
            .filter(|p| p.kind == PlaceType::ElderCanteen)
            .count();
        assert_eq!(canteens, 2);
        let plain = registers(&areas, &opts(0.02));
        let things = |r: &Registers| {
            r.places
                .iter()
                .filter(|p| p.kind.class() == PlaceClass::Thing)
                .count()
        };
        assert!(
            things(&plain) < things(&r),
            "{} {}",
            things(&plain),
            things(&r)
        );
    }

    #[test]
    fn rates_are_roughly_as_documented() {
        let areas = large(6);
        let t = Instant::now();
        let r = registers(&areas, &opts(1.0));
        eprintln!("{} residents in {:?}", r.residents.len(), t.elapsed());
        let end = NaiveDate::from_ymd_opt(END.0, END.1, END.2).unwrap();
        let n = r.residents.len() as f64;
        let ages: Vec<u32> = r
            .residents
            .iter()
            .map(|p| age_on(p.record.birth_date, end))
            .collect();
        let share =
            |f: &dyn Fn(usize) -> bool| (0..r.residents.len()).filter(|&i| f(i)).count() as f64;
        let tag = |i: usize, t: CareTag| r.residents[i].record.tags.has(t);
        let adults = share(&|i| ages[i] >= 18);
        let rate = |t: CareTag| share(&|i| tag(i, t)) / adults;
        let cc = rate(CareTag::CommunityCorrection);
        let released = rate(CareTag::Released);
        let mental = rate(CareTag::MentalDisorder);
        eprintln!("sensitive: {cc:.5} {released:.5} {mental:.5} of {adults} adults");
        assert!((0.0002..0.0010).contains(&cc), "{cc}");
        assert!((0.0005..0.0018).contains(&released), "{released}");
        assert!((0.0028..0.0055).contains(&mental), "{mental}");
        assert!(share(&|i| tag(i, CareTag::MentalDisorder) && ages[i] < 18) == 0.0);
        // 高龄: exactly the 80+
        assert!((0..ages.len()).all(|i| tag(i, CareTag::VeryOld) == (ages[i] >= 80)));
        let male = share(&|i| r.residents[i].record.sex == Sex::Male) / n;
        let registered =
            share(&|i| r.residents[i].record.registration == Registration::Registered) / n;
        let disabled = share(&|i| tag(i, CareTag::Disabled)) / n;
        let low = share(&|i| tag(i, CareTag::LowIncome)) / n;
        let twelve = share(&|i| ages[i] >= 12);
        let phones = share(&|i| r.residents[i].phone.is_some()) / twelve;
        let men =
            share(&|i| r.residents[i].record.sex == Sex::Male && (20..=70).contains(&ages[i]));
        let veterans = share(&|i| tag(i, CareTag::Veteran)) / men;
        eprintln!(
            "male {male:.3} registered {registered:.3} disabled {disabled:.3} low {low:.3} phones {phones:.3} veterans {veterans:.3}"
        );
        assert!((0.48..0.55).contains(&male), "{male}");
        assert!((0.75..0.93).contains(&registered), "{registered}");
        assert!((0.03..0.05).contains(&disabled), "{disabled}");
        assert!((0.01..0.03).contains(&low), "{low}");
        assert!((0.8..0.9).contains(&phones), "{phones}");
        assert!((0.015..0.025).contains(&veterans), "{veterans}");
        let bands: Vec<f64> = [(0, 14), (15, 59), (60, 200), (65, 200), (80, 200)]
            .iter()
            .map(|&(lo, hi)| share(&|i| (lo..=hi).contains(&ages[i])) / n)
            .collect();
        eprintln!(
            "ages 0-14 {:.3} 15-59 {:.3} 60+ {:.3} 65+ {:.3} 80+ {:.3}",
            bands[0], bands[1], bands[2], bands[3], bands[4]
        );
        assert!((0.15..0.3).contains(&bands[0]) && (0.08..0.25).contains(&bands[2]));
        // 独居老人: 65+ living alone, about 40 % of them
        let mut size = vec![0usize; r.households.len()];
        for p in &r.residents {
            size[p.record.household_id as usize - 1] += 1;
        }
        let alone_old =
            share(&|i| ages[i] >= 65 && size[r.residents[i].record.household_id as usize - 1] == 1);
        let tagged = share(&|i| tag(i, CareTag::ElderlyAlone));
        assert!((0..ages.len()).all(|i| !tag(i, CareTag::ElderlyAlone)
            || (ages[i] >= 65 && size[r.residents[i].record.household_id as usize - 1] == 1)));
        assert!(
            (0.3..0.5).contains(&(tagged / alone_old)),
            "{tagged} of {alone_old}"
        );
        // 留守儿童: children under 16 outside dense grids only, about 8 % of them
        let grid_of = building_grids(&r);
        let dense = |i: usize| {
            let h = &r.households[r.residents[i].record.household_id as usize - 1];
            let g = grid_of[h.building_id as usize - 1];
            g.ends_with("001") || g.ends_with("002")
        };
        assert_eq!(
            share(&|i| tag(i, CareTag::LeftBehindChild) && (dense(i) || ages[i] >= 16)),
            0.0
        );
        let rural_children = share(&|i| ages[i] < 16 && !dense(i));
        let left = share(&|i| tag(i, CareTag::LeftBehindChild)) / rural_children;
        assert!((0.05..0.11).contains(&left), "{left}");
        // households: sizes around 3.2, a few single
        let single = size.iter().filter(|&&s| s == 1).count() as f64 / size.len() as f64;
        assert!((0.05..0.25).contains(&single), "{single}");
        let orgs: HashSet<OrgKind> = r.organisations.iter().map(|o| o.record.kind).collect();
        assert!(orgs.len() >= 4, "{orgs:?}");
        let risks: HashSet<PlaceType> = r
            .places
            .iter()
            .filter(|p| p.kind.class() == PlaceClass::Risk)
            .map(|p| p.kind)
            .collect();
        assert!(risks.len() >= 4, "{risks:?}");
    }

    #[test]
    fn names_and_check_characters() {
        assert_eq!(short_community("凤翔社区居委会"), "凤翔社区");
        assert_eq!(short_community("河南社区居民委员会"), "河南社区");
        assert_eq!(short_community("布金村民委员会"), "布金村");
        assert_eq!(short_community("欧田村委会"), "欧田村");
        assert_eq!(short_community("场部社区"), "场部社区");
        assert_eq!(stem("凤山街道"), "凤山");
        assert_eq!(stem("博美镇"), "博美");
        assert_eq!(stem("布金村"), "布金");
        assert_eq!(door(0, 6, 6), "101");
        assert_eq!(door(13, 30, 10), "502");
        // a published example of a unified social credit code
        let c = b"91350100M000100Y43";
        assert_eq!(org_check(&c[8..16]), c[16]);
        assert_eq!(credit_check(&c[..17]), c[17]);
    }

    /// Times the registers of the full hierarchy; run with
    /// `cargo test --release -p minqing-generate registers -- --ignored --nocapture`.
    #[test]
    #[ignore = "builds the full hierarchy; release build only"]
    fn full_shanwei() {
        let t = Instant::now();
        let areas = crate::shanwei_hierarchy(
            &crate::HierarchyOptions {
                seed: 7,
                target_grids: None,
            },
            &|_, _, _| {},
        )
        .unwrap();
        eprintln!("hierarchy: {} areas in {:?}", areas.len(), t.elapsed());
        let grids: Vec<&AreaRecord> = areas.iter().filter(|a| a.level == Level::Grid).collect();
        let mut classes = [0usize; 3];
        for g in &grids {
            classes[match density(g, bbox(&g.geom)) {
                Density::Dense => 0,
                Density::Town => 1,
                Density::Rural => 2,
            }] += 1;
        }
        eprintln!(
            "grids: {} (dense {}, town {}, rural {})",
            grids.len(),
            classes[0],
            classes[1],
            classes[2]
        );
        let pilots = [
            "441502003005",
            "441581105",
            "441523100004",
            "441523100210",
            "441523105001",
            "441523105203",
        ];
        let opts = RegisterOptions {
            seed: 7,
            scale: 1.0,
            pilots: pilots.iter().map(|s| (*s).to_owned()).collect(),
        };
        let t = Instant::now();
        let r = registers(&areas, &opts);
        let took = t.elapsed();
        eprintln!(
            "registers in {took:?}: {} buildings, {} places, {} organisations, {} households, {} residents",
            r.buildings.len(),
            r.places.len(),
            r.organisations.len(),
            r.households.len(),
            r.residents.len()
        );
        let hh: i64 = grids.iter().map(|g| i64::from(g.households)).sum();
        let pop: i64 = grids.iter().map(|g| i64::from(g.population)).sum();
        assert_eq!(r.households.len() as i64, hh);
        assert_eq!(r.residents.len() as i64, pop);
        let end = NaiveDate::from_ymd_opt(END.0, END.1, END.2).unwrap();
        let n = r.residents.len() as f64;
        let floating = r
            .residents
            .iter()
            .filter(|p| p.record.registration == Registration::Floating)
            .count() as f64
            / n;
        let old = r
            .residents
            .iter()
            .filter(|p| age_on(p.record.birth_date, end) >= 60)
            .count() as f64
            / n;
        let young = r
            .residents
            .iter()
            .filter(|p| age_on(p.record.birth_date, end) < 15)
            .count() as f64
            / n;
        let phones = r.residents.iter().filter(|p| p.phone.is_some()).count();
        eprintln!("floating {floating:.3}, 0-14 {young:.3}, 60+ {old:.3}, phones {phones}");
        let mut per_kind: HashMap<PlaceType, usize> = HashMap::new();
        for p in &r.places {
            *per_kind.entry(p.kind).or_default() += 1;
        }
        for k in PlaceType::ALL {
            eprintln!("  {} {}", k.label(), per_kind.get(k).copied().unwrap_or(0));
        }
        let mut per_org: HashMap<OrgKind, usize> = HashMap::new();
        for o in &r.organisations {
            *per_org.entry(o.record.kind).or_default() += 1;
        }
        for k in OrgKind::ALL {
            eprintln!("  {} {}", k.label(), per_org.get(k).copied().unwrap_or(0));
        }
        assert!(took.as_secs() < 30, "{took:?}");
    }
}
