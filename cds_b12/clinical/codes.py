"""Clinical core: code sets, one per clinical concept, each pair carrying its system.

Imports only the standard library. Source IDs refer to ``b12-clinical.md`` §3.
Codes marked ``# unverified`` are flagged ❌ there: they are recognised so real
data is not lost, and must be checked against a terminology server before a
deployment relies on them.
"""

from __future__ import annotations

from .record import Finding, LabKind, Product

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
UCUM = "http://unitsofmeasure.org"

Code = tuple[str, str]


def _set(system: str, *codes: str) -> frozenset[Code]:
    return frozenset((system, c) for c in codes)


# §3.1 LOINC (and the UK GP-record SNOMED lab codes for serum B12).
LAB_CODES: dict[LabKind, frozenset[Code]] = {
    LabKind.B12: _set(LOINC, "2132-9", "14685-2") | _set(SNOMED, "271216009", "365607006"),
    LabKind.HOLOTC: _set(LOINC, "72160-5"),
    LabKind.MMA: _set(LOINC, "13964-2"),
    LabKind.HCY: _set(LOINC, "13965-9"),
    LabKind.HB: _set(LOINC, "718-7"),
    LabKind.MCV: _set(LOINC, "787-2"),
    LabKind.RETIC: _set(LOINC, "17849-1"),
    LabKind.POTASSIUM: _set(LOINC, "2823-3", "6298-4"),
    LabKind.FOLATE: _set(LOINC, "2284-8", "14732-2"),
    LabKind.FERRITIN: _set(LOINC, "2276-4"),
    # eGFR: MDRD, CKD-EPI (2009 and 2021); 48642-3/48643-1 unverified (❌, not in §3.1)
    LabKind.EGFR: _set(LOINC, "33914-3", "62238-1", "98979-8", "48642-3", "48643-1"),
    # unverified: blood-count codes are not in §3.1; automated count, [#/volume] in Blood,
    # and the manual count, as LOINC tables in public code give them (R7, S9 pancytopenia).
    LabKind.WBC: _set(LOINC, "6690-2", "26464-8", "804-5"),
    LabKind.NEUTROPHILS: _set(LOINC, "751-8", "26499-4", "753-4"),
    LabKind.PLATELETS: _set(LOINC, "777-3", "26515-7", "778-1"),
}

# §3.1: B12 + folate order panel (Mayo FB12); a draft of it is a B12 order (R15).
B12_FOLATE_PANEL = (LOINC, "96805-7")

# LOINC panels (code, display) whose components fhir/labs.py reads as results. FHIR's `code`
# search matches Observation.code, never a component's, so the labs search names them too.
# Where each was checked: 58410-2 on loinc.org/58410-2 (its members include 718-7, 787-2,
# 6690-2, 777-3; §3.1 ✅); 57021-8 in the LOINC forum thread "CBC panels" and a LOINC code
# listing (healthassure.in); 24360-0 as Observation.code of HL7 Switzerland's CH LAB-Order
# example "ObservationHbHt"; 96805-7 as the order LOINC of Mayo's FB12 test catalogue page
# (results 2132-9, 2284-8; §3.1 ✅); its display is Mayo's test name (LOINC's unverified).
CBC_PANEL = ("58410-2", "CBC panel - Blood by Automated count")
RESULT_PANELS: dict[str, tuple[str, str]] = {
    "CBC": CBC_PANEL,
    "CBC_AUTO_DIFF": ("57021-8", "CBC W Auto Differential panel - Blood"),
    "HB_HCT": ("24360-0", "Hemoglobin and Hematocrit panel - Blood"),
    "B12_FOLATE": (B12_FOLATE_PANEL[1], "Vitamin B12 and Folate, Serum"),
}

# Observation codes that record pregnancy status (value 77386006 = pregnant).
PREGNANCY_STATUS = _set(LOINC, "82810-3")
PREGNANT_VALUE = _set(SNOMED, "77386006")

# Observation answers that say "no": a finding is decided by its answer, not its question.
# SNOMED 2667000 absent, 260385009 negative, 373067005 no, 260415000 not detected;
# LOINC answer LA32-8 No; HL7 v2 table 0136 N.
NEGATIVE_ANSWERS = (
    _set(SNOMED, "2667000", "260385009", "373067005", "260415000")
    | _set(LOINC, "LA32-8")
    | _set("http://terminology.hl7.org/CodeSystem/v2-0136", "N")
)

# §3.2 RxNorm, Current Prescribable Content 2025-10-06. Exposure is matched by
# ingredient (IN) first, then by clinical drug (SCD/SBD) to learn the form.
CYANOCOBALAMIN_IN = "11248"
HYDROXOCOBALAMIN_IN = "5514"
METHYLCOBALAMIN_IN = "29421"
B12_INGREDIENTS = {
    CYANOCOBALAMIN_IN: "cyanocobalamin",
    HYDROXOCOBALAMIN_IN: "hydroxocobalamin",
    METHYLCOBALAMIN_IN: "methylcobalamin",
    "21373": "cobamamide",
}

# Clinical drugs: code -> (product, ingredient, dose in mg per unit).
B12_DRUGS: dict[str, tuple[Product, str, float]] = {
    "309594": (Product.B12_INJECTION, "cyanocobalamin", 1.0),  # 1 MG/ML injectable
    "2598453": (Product.B12_INJECTION, "cyanocobalamin", 1.0),  # [Dodex]
    "317106": (Product.B12_INJECTION, "hydroxocobalamin", 1.0),  # 1 MG/ML injectable
    "2001499": (Product.B12_INJECTION, "cyanocobalamin", 5.0),  # Synthea only (§3.2 ◐)
    "700496": (Product.CYANOKIT, "hydroxocobalamin", 5000.0),  # Cyanokit SCD: S10
    "700499": (Product.CYANOKIT, "hydroxocobalamin", 5000.0),  # Cyanokit SBD: S10
    "861113": (Product.B12_NASAL, "cyanocobalamin", 0.5),
    "861115": (Product.B12_NASAL, "cyanocobalamin", 0.5),  # [Nascobal]
    "309593": (Product.B12_ORAL_HIGH, "cyanocobalamin", 1.0),
    "237779": (Product.B12_ORAL_HIGH, "cyanocobalamin", 1.0),  # sublingual
    "237776": (Product.B12_ORAL_HIGH, "cyanocobalamin", 1.0),  # 24 HR
    "240516": (Product.B12_ORAL_HIGH, "cyanocobalamin", 1.5),
    "237777": (Product.B12_ORAL_HIGH, "cyanocobalamin", 2.0),
    "313896": (Product.B12_ORAL_HIGH, "cyanocobalamin", 0.5),
    "309604": (Product.B12_ORAL_LOW, "cyanocobalamin", 0.25),
    "309595": (Product.B12_ORAL_LOW, "cyanocobalamin", 0.1),
    "105686": (Product.B12_ORAL_LOW, "cyanocobalamin", 0.05),
    "1539820": (Product.B12_ORAL_HIGH, "methylcobalamin", 1.0),
    "846934": (Product.B12_ORAL_HIGH, "methylcobalamin", 1.0),
}
CYANOKIT = _set(RXNORM, "700496", "700499")

# SNOMED CT substances for a B12 allergy (AllergyIntolerance.code or reaction.substance; not
# in §3.3, checked in public value sets; cobalt has no checked code and is read by words):
# 304111003 Cobalamin: HL7 Portugal ValueSet cpara-allergen-no-drug-vs (allergen substances);
# 419382002 Cyanocobalamin: KBV's SNOMED CT -> ATC B03BA01 ConceptMap and an IHE Pharmacy
# (MEOW) Medication example; 409258004 Hydroxocobalamin, inactive, replaced by 1217427007
# Aquacobalamin: SNOMED International's termserver scripts (IHTSDO), which map one to the other.
B12_ALLERGY_SUBSTANCES = _set(SNOMED, "304111003", "419382002", "409258004", "1217427007")

METFORMIN = _set(RXNORM, "6809", "860975", "861007", "861004", "861010")
ACID_SUPPRESSANTS = _set(
    RXNORM,
    "7646",  # omeprazole
    "283742",  # esomeprazole
    "40790",  # pantoprazole
    "17128",  # lansoprazole
    "114979",  # rabeprazole
    "816346",  # dexlansoprazole
    "4278",  # famotidine
    "2541",  # cimetidine
    "42319",  # nizatidine
    "9143",  # ranitidine
)
FOLIC_ACID = _set(RXNORM, "4511")
NITROUS_OXIDE_DRUG = _set(RXNORM, "7486")

# §3.3 SNOMED CT (IPS free set 2022-07-31) and §3.4 ICD-10-CM.
FINDING_CODES: dict[Finding, frozenset[Code]] = {
    Finding.PERNICIOUS_ANAEMIA: _set(SNOMED, "84027009")
    | _set(ICD10CM, "D51.0")
    | _set(ICD10, "D51.0"),
    Finding.ATROPHIC_GASTRITIS: _set(SNOMED, "84568007"),
    Finding.GASTRECTOMY: _set(SNOMED, "53442002", "49209004") | _set(ICD10CM, "Z90.3"),
    Finding.BARIATRIC_BYPASS: _set(SNOMED, "430715008", "708983005", "443906008", "173747005")
    | _set(ICD10CM, "Z98.84"),
    # unverified (❌ §3.3): sleeve gastrectomy and ileal resection have no verified SCTID;
    # the ICD-10-CM codes are the ones §3.4 lists, flagged ❌.
    Finding.SLEEVE_GASTRECTOMY: frozenset(),
    Finding.ILEAL_RESECTION: _set(ICD10CM, "Z90.49", "K91.2"),  # unverified
    Finding.SHORT_BOWEL: _set(SNOMED, "26629001"),
    Finding.CROHNS: _set(SNOMED, "34000006", "38106008", "56689002")
    | _set(ICD10CM, "K50.0", "K50.00", "K50.9", "K50.90"),  # K50 sub-codes unverified
    Finding.COELIAC: _set(SNOMED, "396331005") | _set(ICD10CM, "K90.0"),
    Finding.MALABSORPTION: _set(SNOMED, "32230006"),
    Finding.B12_DEFICIENCY: _set(SNOMED, "190634004", "64117007", "49472006")
    | _set(ICD10CM, "D51.8", "D51.9", "E53.8", "D51.1", "D51.2"),
    Finding.DIETARY_DEFICIENCY: _set(ICD10CM, "D51.3"),
    Finding.NEURO: _set(
        SNOMED,
        "91019004",
        "309086004",
        "309087008",
        "42345000",
        "386033004",
        "95662005",
        "302226006",
    )
    | _set(ICD10CM, "G62.9", "R20.2"),  # R20.2 unverified
    Finding.NEURO_SEVERE: _set(SNOMED, "52448006", "386805003", "76976005")
    | _set(ICD10CM, "G32.0"),
    Finding.LEBER: _set(ICD10CM, "H47.22"),  # unverified; no verified SCTID (§3.3)
    Finding.PREGNANCY: _set(SNOMED, "77386006"),
    # unverified (❌, not in §3.3): breastfeeding, fatigue and glossitis codes are from memory;
    # words are read as well (fhir/findings.py).
    Finding.BREASTFEEDING: _set(SNOMED, "169750002", "413712001") | _set(ICD10CM, "Z39.1"),
    Finding.FATIGUE: _set(SNOMED, "84229001", "224960004") | _set(ICD10CM, "R53.83"),
    Finding.GLOSSITIS: _set(SNOMED, "17793005") | _set(ICD10CM, "K14.0"),
    Finding.NITROUS_OXIDE: frozenset(),
    # unverified (❌, not in §3.3): CKD stages 3-5, end-stage renal disease, dialysis; words too.
    Finding.RENAL_IMPAIRMENT: _set(
        SNOMED, "709044004", "433144002", "431857002", "433146000", "46177005", "108241001"
    )
    | _set(ICD10CM, "N18.3", "N18.30", "N18.31", "N18.32", "N18.4", "N18.5", "N18.6", "Z99.2"),
}

# Symptoms that may recur before a maintenance dose is due (Seed 2: "if labs or symptoms
# suggest under-replacement"); neurological signs are counted apart (S8).
SYMPTOM_FINDINGS = frozenset({Finding.FATIGUE, Finding.GLOSSITIS})

# Findings whose coded presence makes the cause irreversible (§6.1, S1).
IRREVERSIBLE_FINDINGS = frozenset(
    {
        Finding.PERNICIOUS_ANAEMIA,
        Finding.ATROPHIC_GASTRITIS,
        Finding.GASTRECTOMY,
        Finding.BARIATRIC_BYPASS,
        Finding.ILEAL_RESECTION,
        Finding.SHORT_BOWEL,
    }
)

# What we suggest ordering (LOINC, display). Order codes for panels and for
# analytes we never read as results live here too.
ORDERABLE_LABS: dict[str, tuple[str, str]] = {
    "CBC": CBC_PANEL,
    "RETIC": ("17849-1", "Reticulocytes/100 erythrocytes in Blood by Automated count"),
    "POTASSIUM": ("2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
    "B12": ("2132-9", "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma"),
    "HOLOTC": ("72160-5", "Holo-transcobalamin II [Moles/volume] in Serum"),
    "MMA": ("13964-2", "Methylmalonate [Moles/volume] in Serum or Plasma"),
    "HCY": ("13965-9", "Homocysteine [Moles/volume] in Serum or Plasma"),
    "FOLATE": ("2284-8", "Folate [Mass/volume] in Serum or Plasma"),
    "FERRITIN": ("2276-4", "Ferritin [Mass/volume] in Serum or Plasma"),
    "IF_AB": ("31444-3", "Intrinsic factor blocking antibody"),  # long name unverified
    "PCA": ("8087-9", "Parietal cell antibody"),  # long name unverified
    "TSH": ("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma"),
}

# Dosage.route, SNOMED (§3.3). Only IM is verified (❌ for the others); the FHIR
# reader also recognises HL7 v3 route codes and plain words.
ROUTE_IM = (SNOMED, "78421000", "Intramuscular route")
ROUTE_ORAL = (SNOMED, "26643006", "Oral route")  # unverified
ROUTE_SC = (SNOMED, "34206005", "Subcutaneous route")  # unverified
ROUTE_SUBLINGUAL = (SNOMED, "37839007", "Sublingual route")  # unverified
ROUTE_NASAL = (SNOMED, "46713006", "Nasal route")  # unverified
ROUTE_IV = (SNOMED, "47625008", "Intravenous route")  # unverified

OVERRIDE_REASON_SYSTEM = "https://cds-b12.example.org/CodeSystem/override-reason"

# HL7 v3 ObservationInterpretation codes that flag a result as low (§2.2: a B12 the lab
# flags low is deficient when the lab sends no lower limit).
LOW_INTERPRETATIONS = frozenset({"L", "LL", "LU"})
# The HL7 v3 code for a critically low result: below the adult age, the lab's own
# (paediatric) judgement of a severe Hb, as no adult cut-off applies (R7).
CRITICAL_LOW_INTERPRETATIONS = frozenset({"LL"})
