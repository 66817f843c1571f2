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

mod buildings;
mod communities;
mod geometry;
mod identity;
mod organisations;
mod people;
mod places;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

use std::collections::{HashMap, HashSet};

use minqing_model::register::Registers;
use minqing_model::{AreaRecord, Level};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use communities::tree;
use identity::{SURNAME_WEIGHTS, days_of};
use people::Member;

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

/// A building or a free point where a place or an organisation is.
#[derive(Debug, Clone, Copy)]
struct Spot {
    building: Option<i64>,
    p: [f64; 2],
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
}
