"""Clinical core: the guideline sources that rules cite, keyed by the knowledge base's IDs.

Imports only the standard library. IDs and URLs are copied from
``b12-clinical.md`` (§1 and §8) so one grep finds a citation in both places.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Source:
    label: str
    url: str


SOURCES: dict[str, Source] = {
    "UK-1": Source(
        "BNF: hydroxocobalamin, pernicious anaemia",
        "https://pernicious-anaemia-society.org/treatment/",
    ),
    "UK-2": Source(
        "BNF: hydroxocobalamin with neurological involvement",
        "https://pernicious-anaemia-society.org/treatment/",
    ),
    "UK-3": Source(
        "NICE CKS: B12 deficiency, neurological involvement",
        "https://pernicious-anaemia-society.org/articles/nice-cks-b12-deficiency/",
    ),
    "UK-4": Source(
        "NICE CKS: dietary B12 deficiency",
        "https://www.sps.nhs.uk/articles/injectable-medicines-commonly-used-in-primary-care-during-covid-19-vitamin-b12/",
    ),
    "UK-5": Source("Hydroxocobalamin SmPC", "https://www.medicines.org.uk/emc/medicine/31182"),
    "UK-6": Source(
        "BSH 2014 (Devalia et al.)", "http://onlinelibrary.wiley.com/doi/10.1111/bjh.12959/full"
    ),
    "UK-8": Source(
        "NICE NG239 (2024): testing and review", "https://www.nice.org.uk/guidance/ng239"
    ),
    "UK-9": Source(
        "NICE NG239 (2024): follow-up",
        "https://www.medicinesresources.nhs.uk/vitamin-b12-deficiency-in-over-16s-diagnosis-and-management-guidance-ng239.html",
    ),
    "UK-10": Source(
        "NICE NG239 (2024): rationale",
        "https://www.nice.org.uk/guidance/NG239/chapter/rationale-and-impact",
    ),
    "US-1": Source(
        "FDA cyanocobalamin injection label",
        "https://fda.report/DailyMed/7e10c47d-1036-47c1-a0ed-6929636366c2",
    ),
    "US-2": Source(
        "FDA cyanocobalamin label: monitoring", "https://globalrph.com/rx-list/cyanocobalamin-drug"
    ),
    "US-3": Source(
        "Stabler, NEJM 2013;368:149", "https://www.localhealthrx.com/drugs/cyanocobalamin/"
    ),
    "US-4": Source(
        "BMJ Best Practice: vitamin B12 deficiency",
        "https://bibliotheek.ehb.be:2400/topics/en-gb/822/treatment-algorithm",
    ),
    "US-5": Source("AFP 2017 (Langan & Goodbred)", "https://pubmed.ncbi.nlm.nih.gov/28925645/"),
    "US-6": Source("AFP 2025 (Patel & McGuirk)", "https://m.booksci.cn/literature/145079507.htm"),
    "SP-1": Source(
        "ASMBS 2016 micronutrient update",
        "https://www.scribd.com/document/528334658/American-Society-for-Metabolic-and-Bariatric-Surgery-Integrated-Health-Nutritional-Guidelines-for-the-Surgical-Weight-Loss-Patient-2016-Update-Micron",
    ),
    "SP-4": Source(
        "ADA Standards of Care: metformin and B12",
        "https://discovery.researcher.life/article/evaluation-of-vitamin-b12-monitoring-in-veterans-with-type-2-diabetes-on-metformin-therapy/15d00801b40f3e25a8f15b50a2d472a3",
    ),
    "SP-5": Source(
        "MHRA Drug Safety Update 2022: metformin and B12",
        "https://remedy.bnssg.icb.nhs.uk/adults/haematology/vitamin-b12",
    ),
    "SP-6": Source(
        "Lam et al., JAMA 2013;310:2435",
        "https://gerdhelp.com/blog/references/proton-pump-inhibitor-and-histamine-2-receptor-antagonist-use-and-vitamin-b12-deficiency",
    ),
    "SP-7": Source(
        "NHS Lothian RefHelp: B12 deficiency",
        "https://apps.nhslothian.scot/refhelp/vitamin-b12-deficiency",
    ),
    "SP-8": Source(
        "BNSSG Remedy: B12 in pregnancy",
        "https://remedy.bnssg.icb.nhs.uk/adults/haematology/vitamin-b12",
    ),
    "SP-9": Source("NICE NG239: nitrous oxide", "https://www.drugsandalcohol.ie/39242/"),
    "LAB-2.8": Source(
        "Mayo Clinic Laboratories: B12 after injection",
        "https://yumaregional.testcatalog.org/show/B12",
    ),
    "LAB-UK-2.8": Source(
        "BNSSG Remedy: B12 on replacement therapy",
        "https://remedy.bnssg.icb.nhs.uk/adults/haematology/vitamin-b12",
    ),
    "WHO-2.6": Source(
        "WHO haemoglobin thresholds (VMNIS 2011)", "https://guidelinecentral.com/guideline/3534081"
    ),
    "LABEL-S4": Source(
        "FDA cyanocobalamin label: Leber's disease",
        "https://fda.report/DailyMed/7e10c47d-1036-47c1-a0ed-6929636366c2",
    ),
    "LABEL-S3": Source(
        "FDA cyanocobalamin label: folic acid", "https://globalrph.com/rx-list/cyanocobalamin-drug"
    ),
}
