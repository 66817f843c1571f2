//! Places: service places per community, risk sites per street and grid, and public things
//! per grid.

use minqing_model::register::{PlaceRecord, PlaceType, ThingState};
use rand::Rng;

use super::communities::{Comm, Street, stem};
use super::geometry::{Cell, Density};
use super::{Gen, Spot};

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

impl Gen<'_> {
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

    pub(super) fn grid_places(
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

    pub(super) fn service_places(&mut self, ctx: &Comm) {
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

    pub(super) fn street_places(&mut self, st: &Street, factories: &[Spot]) {
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
