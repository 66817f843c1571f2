//! Buildings of a grid: residential buildings filled with its households, shops, factories,
//! other and hosting (public, school, clinic) buildings; room numbers.

use minqing_model::register::{BuildingKind, BuildingRecord, OrgKind};
use rand::Rng;

use super::communities::Comm;
use super::geometry::{Cell, Density, density};
use super::organisations::INDUSTRIES;
use super::{Gen, Spot, counts};

/// The room number of the `k`-th household of a building of `cap` households on `floors`.
pub(super) fn door(k: usize, cap: usize, floors: i16) -> String {
    let per = cap.div_ceil(floors.max(1) as usize).max(1);
    format!("{}{:02}", 1 + k / per, 1 + k % per)
}

impl Gen<'_> {
    #[allow(clippy::too_many_lines)] // one pass over a grid reads best in its order
    pub(super) fn grid(
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
}
