//! Pilots and the documented rates.

use chrono::NaiveDate;
use minqing_model::register::{CareTag, OrgKind, PlaceType, Registration, Sex};

use super::*;
use crate::registers::geometry::{Density, bbox, density};

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
    let share = |f: &dyn Fn(usize) -> bool| (0..r.residents.len()).filter(|&i| f(i)).count() as f64;
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
    let registered = share(&|i| r.residents[i].record.registration == Registration::Registered) / n;
    let disabled = share(&|i| tag(i, CareTag::Disabled)) / n;
    let low = share(&|i| tag(i, CareTag::LowIncome)) / n;
    let twelve = share(&|i| ages[i] >= 12);
    let phones = share(&|i| r.residents[i].phone.is_some()) / twelve;
    let men = share(&|i| r.residents[i].record.sex == Sex::Male && (20..=70).contains(&ages[i]));
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
