"""The physical equations of GEP accounting, one pure function each.

Every function works on NumPy arrays (a raster block) or plain floats alike, in the units
its argument names end with. Sources, by short name:

- **Garzê 2010**: 白玛卓嘎, 肖燚, 欧阳志云, 王莉雁, 甘孜藏族自治州生态系统生产总值核算研究,
  生态学报 2017 37(19):6302–6312 (equation numbers of that paper).
- **Bo 2017**: 博文静 … 欧阳志云, 中国森林生态资产价值评估, 生态学报 2017 37(12):4182–4190.
- **Jiang 2017**: 江波 … 欧阳志云, 白洋淀湿地生态系统最终服务价值评估, 生态学报 2017
  37(8):2497–2505.
- **RWEQ**: Fryrear D.W., Saleh A., Bilbro J.D., Schomberg H.M., Stout J.E., Zobeck T.M.
  1998, *Revised Wind Erosion Equation (RWEQ)*, USDA-ARS Technical Bulletin 1; Fryrear
  D.W., Bilbro J.D., Saleh A., Schomberg H., Stout J.E., Zobeck T.M. 2000, "RWEQ: Improved
  wind erosion technology", J. Soil Water Conserv. 55(2):183–189. Neither primary text
  could be read where this was written. The constants and the form are those printed by
  **Peng 2017** (彭建, 武文欢, 刘焱序, 胡熠娜, 基于PSR框架的内蒙古自治区土壤保持服务分区,
  生态学报 2017 37(11):3849–3861, Section 1.2.2(1), citing Fryrear et al. 2000 as its
  ref. [55]) and **Liu 2018** (刘菁华, 李伟峰, 周伟奇, 韩立建, 钱雨果,
  京津冀城市群扩张模式对区域生态安全的影响预测, 生态学报 2018 38(5):1650–1660, Section
  1.2.2, Eqs. 2–4, after 巩国丽 et al. 2014), both read in full text on the ChinaXiv mirror
  ``DreamBlooms/ChinaXiv-201601-to-202209`` (``md/ChinaXiv-201706.00467V1.md``,
  ``md/ChinaXiv-201803.01078V1.md``); see :data:`RWEQ_S_COEFFICIENT` for the
  150.71-or-105.71 question.
- **USLE/RUSLE**: Wischmeier & Smith 1978, USDA Agriculture Handbook 537; Renard et al. 1997,
  Agriculture Handbook 703.

Carbon and oxygen are kept on an explicit basis: ``*_t_c`` (tonnes of carbon) or
``*_t_co2`` (tonnes of CO2); the only conversion between them is
:func:`hesuan.units.convert` in the ``carbon`` context (44/12).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np

from hesuan.units import conversion_factor

#: A float or a NumPy array of floats (a raster block): every function works on both,
#: element-wise, and mixes them freely (a block of rainfall times a pixel area).
A: TypeAlias = Any

#: [t CO2 / t C] the only factor between the two bases, read from the ``carbon`` context.
CO2_PER_C: float = conversion_factor("t C", "t CO2", context="carbon")

#: [t O2 / t CO2] photosynthesis CO2 + H2O → CH2O + O2: one mole of O2 per mole of CO2,
#: 31.998 / 44.009 by molar masses; 32/44 as the literature rounds it.
O2_PER_CO2_STOICHIOMETRIC: float = 32.0 / 44.0


# --------------------------------------------------------------------------- water


def water_conservation_m3(precip_mm: A, storm_runoff_mm: A, et_mm: A, area_m2: A) -> A:
    """Water conservation Q = (P − R − ET) · A [m³/yr] (Garzê 2010 Eq. 2; Bo 2017 Eq. 4).

    Parameters
    ----------
    precip_mm, storm_runoff_mm, et_mm : [mm/yr] precipitation, storm runoff, evapotranspiration
    area_m2 : [m²] area (of a pixel, or of an ecosystem type)

    A negative balance (ET + runoff above precipitation) is returned as it is; callers report
    the pixels where it happens rather than silently clipping them.
    """
    return (precip_mm - storm_runoff_mm - et_mm) * 1e-3 * area_m2


# --------------------------------------------------------------------------- soil


def soil_retention_t(r_factor: A, k_factor: A, ls_factor: A, c_factor: A, p_factor: A,
                     area_ha: A) -> A:
    """Soil retention = potential − actual erosion = R·K·LS·(1 − C·P) · area [t/yr].

    USLE/RUSLE (Wischmeier & Smith 1978; Renard et al. 1997), as GEP uses it: potential
    erosion R·K·LS (bare soil, no practice), actual R·K·LS·C·P (Garzê 2010 Section 2.4.2;
    Bo 2017 Eq. 7 writes R·K·L·S·(1 − C) without P, i.e. P = 1). It equals InVEST SDR's
    ``avoided_erosion`` (RKLS − USLE). Units: R [MJ·mm/(ha·h·yr)], K [t·ha·h/(ha·MJ·mm)],
    LS, C, P [-], area [ha] → metric tonnes of soil per year.
    """
    return r_factor * k_factor * ls_factor * (1.0 - c_factor * p_factor) * area_ha


def sediment_volume_m3(soil_retained_t: A, deposition_ratio: float,
                       bulk_density_t_per_m3: float) -> A:
    """Sediment deposition avoided λ · A_s / ρ [m³/yr] (Garzê 2010 Eq. 4; Bo 2017 Eq. 5)."""
    return deposition_ratio * soil_retained_t / bulk_density_t_per_m3


def nutrient_retained_t(soil_retained_t: A, content_fraction: float) -> A:
    """Nutrient (N, P or K) kept in place A_s · C_i [t/yr] (Garzê 2010 Eq. 5; Bo 2017 Eq. 6).

    ``content_fraction`` is the pure content as a fraction (0.37 % → 0.0037).
    """
    return soil_retained_t * content_fraction


# --------------------------------------------------------------------------- sand


#: RWEQ maximum transport capacity coefficient of Q_max = 109.8 · (WF·EF·SCF·K'·COG) [kg/m
#: per kg/m of WF] (Fryrear et al. 2000, as printed by Peng 2017 and Liu 2018 Eq. 2).
RWEQ_QMAX_COEFFICIENT: float = 109.8

#: RWEQ critical field length coefficient of s = 150.71 · (WF·EF·SCF·K'·COG)^(−0.3711) [m]
#: (Fryrear et al. 2000, as printed by Peng 2017 and Liu 2018 Eq. 3).
#:
#: Some published scripts use 105.71 instead (the same digits transposed: a critical length
#: 30 % shorter for the same factors). Every printed equation found gives 150.71: the two
#: peer-reviewed papers above (Peng 2017 citing Fryrear et al. 2000), and independent
#: implementations that cite Fryrear et al. 1998 (a Google Earth Engine script for the
#: Columbia Plateau, USA; the ``pyrweq`` package). The 105.71 was found only in unpublished
#: scripts of one lineage: a "wind storm prevention service" script that refers to a study
#: of wind erosion in Inner Mongolia 2001–2010 (the study itself was not read), its Natural
#: Capital Project port "inspired by Huang Binbin's approach", and copies of them, which
#: hard-code z = 50 m as ``100 / (s² + 0.01)``. No printed equation with 105.71 was found,
#: so 150.71 is the constant here. The primary texts (Fryrear et al. 1998, 2000) were not
#: read, so the constant's page there is not cited.
RWEQ_S_COEFFICIENT: float = 150.71

#: RWEQ critical field length exponent (Fryrear et al. 2000, as printed by Peng 2017 and
#: Liu 2018 Eq. 3).
RWEQ_S_EXPONENT: float = -0.3711


def rweq_soil_loss_kg_per_m2(q_max_kg_per_m: A, s_m: A, z_m: float) -> A:
    """RWEQ soil loss at distance z: S_L = (2z / s²) · Q_max · e^(−(z/s)²) [kg/m²].

    The derivative along the wind of RWEQ's transport curve Q(x) = Q_max (1 − e^(−(x/s)²))
    [kg/m] (Fryrear et al. 2000): mass leaving each m² at distance z downwind of the
    non-erodible boundary (Liu 2018 Eq. 4; Peng 2017 Section 1.2.2(1)). z the downwind
    distance [m] (50 m in most GEP studies), s the critical field length [m]
    (:func:`rweq_critical_length_m`), Q_max the maximum transport capacity [kg/m]
    (:func:`rweq_q_max_kg_per_m`).
    """
    return (2.0 * z_m / (s_m * s_m)) * q_max_kg_per_m * np.exp(-((z_m / s_m) ** 2))


def rweq_q_max_kg_per_m(wf: A, ef: A, scf: A, k_rough: A, cog: A) -> A:
    """RWEQ maximum transport capacity Q_max = 109.8 · (WF·EF·SCF·K'·COG) [kg/m].

    Fryrear et al. 2000 (Liu 2018 Eq. 2; Peng 2017 Section 1.2.2(1)): weather factor WF
    [kg/m], erodible fraction EF, soil crust factor SCF, surface roughness K', combined crop
    factor COG (1 for bare soil), all dimensionless but WF. The constant is empirical: WF
    must be in kg/m.
    """
    return RWEQ_QMAX_COEFFICIENT * (wf * ef * scf * k_rough * cog)


def rweq_critical_length_m(wf: A, ef: A, scf: A, k_rough: A, cog: A) -> A:
    """RWEQ critical field length s = 150.71 · (WF·EF·SCF·K'·COG)^(−0.3711) [m].

    Fryrear et al. 2000 (Liu 2018 Eq. 3; Peng 2017 Section 1.2.2(1)): the distance over
    which transport reaches 1 − e⁻¹ ≈ 63 % of Q_max (Q(s) of the transport curve of
    :func:`rweq_soil_loss_kg_per_m2`). WF in kg/m. Why 150.71 and not 105.71:
    :data:`RWEQ_S_COEFFICIENT`.
    """
    return RWEQ_S_COEFFICIENT * (wf * ef * scf * k_rough * cog) ** RWEQ_S_EXPONENT


def sand_fixation_t(wf: A, ef: A, scf: A, k_rough: A, cog: A, z_m: float,
                    area_m2: A) -> A:
    """Sand fixed = potential (COG = 1) − actual RWEQ wind erosion [t/yr] over ``area_m2``.

    Garzê 2010 Section 2.4.3: 潜在风蚀量与实际风蚀量的差值.
    """
    def loss(c: A) -> A:
        return rweq_soil_loss_kg_per_m2(rweq_q_max_kg_per_m(wf, ef, scf, k_rough, c),
                                        rweq_critical_length_m(wf, ef, scf, k_rough, c), z_m)
    ones = cog * 0 + 1.0
    return (loss(ones) - loss(cog)) * area_m2 * 1e-3


def sand_fixation_area_m2(sand_fixed_t: A, sand_bulk_density_t_per_m3: float,
                          cover_depth_m: float) -> A:
    """Area kept from desertification Q_f / (ρ · h) [m²] (Garzê 2010 Eq. 6).

    The standard sand-cover depth h turns a sand mass into the area a control project would treat.
    """
    return sand_fixed_t / (sand_bulk_density_t_per_m3 * cover_depth_m)


# --------------------------------------------------------------------------- flood


def lake_flood_capacity_wan_m3(lake_area_km2: A, ln_a: float, b: float,
                               turnovers_per_yr: float = 1.0) -> A:
    """Lake flood-regulation capacity C = e^(ln a) · A^b · T [万 m³/yr] (Garzê 2010 Eq. 7).

    After 饶恩明 et al. 2014; Tibetan-plateau lakes: ln a = 6.636, b = 0.678.
    """
    return np.exp(ln_a) * np.power(lake_area_km2, b) * turnovers_per_yr


def reservoir_flood_capacity_m3(total_capacity_m3: A, flood_share: float) -> A:
    """Reservoir flood-control capacity C_r = share · C_t [m³] (Garzê 2010 Eq. 8: 0.35)."""
    return total_capacity_m3 * flood_share


def marsh_flood_capacity_m3(marsh_area_km2: A, storage_depth_m: A) -> A:
    """Marsh surface detention C_m = depth · S [m³] (Garzê 2010 Eq. 9, depth 0.3 m).

    The paper prints C_m = 0.3·S·10⁶ with C_m in 万 m³, but only m³ reproduces its Table 3.
    """
    return storage_depth_m * marsh_area_km2 * 1e6


# --------------------------------------------------------------------------- carbon, O2


def co2_from_carbon_t(carbon_t_c: A) -> A:
    """[t CO2] from [t C] — × 44/12, the ``carbon`` context of :mod:`hesuan.units`."""
    return carbon_t_c * CO2_PER_C


def carbon_from_co2_t(co2_t: A) -> A:
    """[t C] from [t CO2] — × 12/44, the ``carbon`` context of :mod:`hesuan.units`."""
    return co2_t / CO2_PER_C


def carbon_sequestration_from_nep_t_c(nep_t_c: A) -> A:
    """Carbon sequestered = NEP = NPP − soil heterotrophic respiration [t C/yr].

    Bo 2017 Eq. 8; Garzê 2010 Section 2.4.7. NEP is already a carbon flux; negative NEP (a net
    source) is returned as it is.
    """
    return nep_t_c


def nep_t_c(npp_t_c: A, soil_respiration_t_c: A) -> A:
    """NEP = NPP − R_s [t C/yr] (Bo 2017 Eq. 8)."""
    return npp_t_c - soil_respiration_t_c


def co2_from_dry_matter_t(npp_t_dm: A, co2_per_dm: float = 1.63) -> A:
    """CO2 fixed = 1.63 · dry matter produced [t CO2/yr].

    Photosynthesis: 1.63 kg CO2 per kg of dry matter (Jiang 2017 Section 2.2.2, LY/T 1721-2008).
    """
    return npp_t_dm * co2_per_dm


def oxygen_from_dry_matter_t(npp_t_dm: A, o2_per_dm: float = 1.19) -> A:
    """O2 released = 1.19 · dry matter produced [t O2/yr] (forestry form, LY/T 1721-2008).

    Jiang 2017 uses 1.2. Counted only where the edition counts oxygen release.
    """
    return npp_t_dm * o2_per_dm


def oxygen_from_co2_t(co2_t: A) -> A:
    """O2 released = 32/44 · CO2 fixed [t O2/yr].

    The stoichiometric basis (one mole of O2 per mole of CO2 fixed in photosynthesis).
    """
    return co2_t * O2_PER_CO2_STOICHIOMETRIC


# --------------------------------------------------------------------------- purification


def uptake_t(rate_kg_per_ha: A, area_ha: A) -> A:
    """Pollutant uptake Q · A [t/yr] from a per-area rate [kg/(ha·yr)].

    Bo 2017 Eq. 11 for SO2, NOx and dust; the same form for COD, N and P removal by wetlands.
    """
    return rate_kg_per_ha * area_ha * 1e-3


# --------------------------------------------------------------------------- climate


def transpiration_cooling_kwh(heat_kj_per_m2_day: A, area_m2: A, days: float,
                              ac_efficiency: float) -> A:
    """Energy an air conditioner would spend to match vegetation's transpiration cooling.

    GPP_heat · S · d / (3600 · R) [kWh/yr] (Garzê 2010 Eq. 12; Bo 2017 Eq. 10).

    ``heat_kj_per_m2_day`` [kJ/(m²·d)] is the heat consumed by transpiration per unit area
    (the paper's "GPP"), ``days`` [d] the days air conditioning is on, ``ac_efficiency`` [-]
    the air conditioner's energy efficiency ratio (3.0 in Bo 2017). 3600 kJ = 1 kWh.
    """
    return heat_kj_per_m2_day * area_m2 * days / (3600.0 * ac_efficiency)


def evaporation_cooling_kwh(evaporation_m3: A, latent_heat_j_per_g: float = 2260.0,
                            humidifier_kwh_per_m3: float = 0.0,
                            water_density_kg_per_m3: float = 1000.0) -> A:
    """Energy to match water-surface evaporation.

    E·ρ·q/3600 + E·γ [kWh/yr] (Garzê 2010 Eq. 13): evaporation E [m³], water density ρ [kg/m³],
    latent heat q [J/g = kJ/kg], humidifier consumption γ [kWh per m³ of water vaporised].
    """
    return (evaporation_m3 * water_density_kg_per_m3 * latent_heat_j_per_g / 3600.0
            + evaporation_m3 * humidifier_kwh_per_m3)


# --------------------------------------------------------------------------- cultural


def travel_cost_value(visits: A, travel_spending_per_visit: float,
                      time_cost_per_visit: float = 0.0,
                      consumer_surplus_per_visit: float = 0.0) -> A:
    """Recreation by the travel cost method V = TE + TV + CS [currency/yr] (Jiang 2017 Eq. 8).

    Travel spending, travel-time cost and consumer surplus per visit, times visits.
    """
    return visits * (travel_spending_per_visit + time_cost_per_visit
                     + consumer_surplus_per_visit)


def contingent_value(wtp_per_month: float, months: float, payer_share: float,
                     payers: A) -> A:
    """Non-use value V = W · R · P [currency/yr] (Jiang 2017 Eq. 9).

    Willingness to pay W per person (per month × ``months``), share of payers R, paying population
    P.
    """
    return wtp_per_month * months * payer_share * payers


def landscape_premium_value(benefiting_area_m2: A, premium_per_m2: A) -> A:
    """Landscape value as a property premium V = Σ A_i · P_i [currency], element-wise A · P.

    景观价值 (景观增值): the value the ecosystem landscape adds to the property that enjoys it,
    by the hedonic-price (特征价格) reasoning: ``benefiting_area_m2`` A_i [m²] is the
    residential or commercial floor space (some texts: the land area within a buffer of the
    ecosystem) that benefits from landscape i, ``premium_per_m2`` P_i [currency/m²] the price
    premium per m² that the landscape adds. The sum over i is the caller's (the account sums
    its rows); both arguments may be arrays.

    Sources (second-hand; no text printing this equation was read):

    - The form V = Σ A_i · P_i is the one the Chinese GEP literature is reported to use for
      景观价值 / 景观增值; no primary text of it could be read here. Shenzhen's GEP accounting
      counts 景观增值 (landscape premium) beside 休闲旅游 (recreation and tourism): 张亚立,
      韩宝龙, 孙芳芳, 生态系统生产总值核算制度及管理应用——以深圳为例, 生态学报 2023
      43(17):7023–7034, and 陈礼, 李思诗, 孙芳芳 on the GEP of Longhua District, Shenzhen
      (深圳市环境科学研究院) — only the openings of both papers were read, not their
      equations; the pair 景观增值 / 休闲旅游 under 文化服务 also appears in the front-end
      code of a GEP platform found on GitHub. The MEE 2020 guideline, GB/T 46869—2025 and
      the NDRC/NBS 2022 specification were not read: whether and how they count landscape
      value is unknown.
    - The hedonic premium itself: Jim C.Y., Chen W.Y. 2006, *Landscape Urban Plan.*
      78:422–434 (green-space view +7.1 %, water proximity +13.2 % of Guangzhou flat prices);
      Kong F., Yin H., Nakagoshi N. 2007, *Landscape Urban Plan.* 79:240–252 (Jinan).
      A premium in % becomes P_i = share × the price per m² of the property.

    Parameters
    ----------
    benefiting_area_m2 : [m²] floor (or land) area benefiting from the landscape, >= 0
    premium_per_m2 : [currency/m²] the premium the landscape adds per m² of that area

    Returns
    -------
    The landscape value A · P [currency] (per year where the premium is an annual one, e.g.
    a rent premium; a premium on sale prices is a stock, and the edition says which it uses).
    """
    return benefiting_area_m2 * premium_per_m2
