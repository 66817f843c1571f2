//! Streets and communities: the tree of the grids, community names and stems, roads, and
//! what a community's grids share while they are generated.

use std::collections::HashMap;

use minqing_model::register::BuildingKind;
use minqing_model::{AreaRecord, Level};
use rand::Rng;

use super::identity::region_of;
use super::{Gen, Spot};

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

/// A street and its communities.
pub(super) struct Street {
    pub(super) area: Option<usize>,
    pub(super) communities: Vec<Community>,
}

/// A community and its grids, in the order of the areas.
pub(super) struct Community {
    pub(super) area: Option<usize>,
    pub(super) grids: Vec<usize>,
}

pub(super) struct Road {
    pub(super) name: String,
    pub(super) next: u32,
}

/// What is known of a community while its grids are generated.
pub(super) struct Comm<'a> {
    pub(super) code: &'a str,
    pub(super) short: String,
    pub(super) prefix: String,
    pub(super) district: String,
    pub(super) region: [u8; 6],
    pub(super) pilot: bool,
    pub(super) urban: bool,
    pub(super) roads: Vec<Road>,
    pub(super) centre: usize,
    pub(super) public: Option<Spot>,
    pub(super) school: Option<Spot>,
    pub(super) clinic: Option<Spot>,
}

/// The streets, communities and grids of `areas`, in the order the grids come.
pub(super) fn tree(areas: &[AreaRecord], by_code: &HashMap<&str, usize>) -> Vec<Street> {
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

/// 凤翔社区居委会 → 凤翔社区, 布金村民委员会 → 布金村.
pub(super) fn short_community(name: &str) -> String {
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
pub(super) fn stem(name: &str) -> &str {
    for suffix in ["社区", "街道", "村", "镇", "乡"] {
        if let Some(s) = name.strip_suffix(suffix)
            && !s.is_empty()
        {
            return s;
        }
    }
    name
}

impl<'a> Gen<'a> {
    pub(super) fn community(&mut self, c: &Community, factories: &mut Vec<Spot>) {
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

    pub(super) fn road(&mut self, ctx: &Comm) -> String {
        let i = self.rng.random_range(0..ctx.roads.len().max(1));
        ctx.roads
            .get(i)
            .map_or_else(String::new, |r| r.name.clone())
    }
}
