"""The plan as a client-ready document, in French (Québec) or English.

One structure — titled sections of paragraphs, bullet lists, tables and charts — rendered
by the Markdown, DOCX and PDF writers, so the three say the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from babel import dates as babel_dates
from babel import numbers as babel_numbers

from services.planner.compute import kpis as kpi_catalogue
from shared.schemas.planner import PlanProgress, PlanVersionPublic

FR = {
    "Action plan": "Plan d'action",
    "Version {n} · {status}": "Version {n} · {status}",
    "Period": "Période",
    "draft": "ébauche",
    "approved": "approuvée",
    "active": "active",
    "closed": "fermée",
    "Audiences": "Publics visés",
    "Age": "Âge",
    "Language": "Langue",
    "Region": "Région",
    "Interests": "Intérêts",
    "Preferred networks": "Réseaux privilégiés",
    "Objectives and KPIs": "Objectifs et indicateurs",
    "Audience": "Public",
    "Objective": "Objectif",
    "KPI": "Indicateur",
    "Network": "Réseau",
    "Baseline": "Point de départ",
    "Target": "Cible",
    "Deadline": "Échéance",
    "no baseline": "aucun point de départ",
    "Source of the target": "Source de la cible",
    "entered by hand": "saisie manuelle",
    "awareness": "notoriété",
    "engagement": "engagement",
    "traffic": "trafic",
    "conversion": "conversion",
    "advocacy": "recommandation",
    "Editorial line": "Ligne éditoriale",
    "Content pillars": "Piliers de contenu",
    "Share": "Part",
    "Tone and style": "Ton et style",
    "Voice": "Voix",
    "Do": "À faire",
    "Don't": "À éviter",
    "Vocabulary": "Vocabulaire",
    "Terms to avoid": "Termes à éviter",
    "Hashtags": "Mots-clics",
    "Languages": "Langues",
    "Roles and capacity": "Rôles et capacité",
    "Animator": "Animateur",
    "Hours per week": "Heures par semaine",
    "Planned hours": "Heures prévues",
    "Space": "Espace",
    "Posts per week": "Publications par semaine",
    "Formats": "Formats",
    "nobody": "personne",
    "Team: {team} h a week; plan: {planned} h a week.": (
        "Équipe : {team} h par semaine; plan : {planned} h par semaine."
    ),
    "Co-creators": "Cocréateurs",
    "Phases": "Phases",
    "Gate": "Condition d'ouverture",
    "open from the start": "ouverte dès le départ",
    "{kpi} reaches {threshold}": "{kpi} atteint {threshold}",
    "Warnings": "Avertissements",
    "Plan versus actual on {date}": "Prévu et réel au {date}",
    "Expected": "Attendu",
    "Actual": "Réel",
    "Status": "Statut",
    "on_track": "en bonne voie",
    "at_risk": "à risque",
    "off_track": "hors trajectoire",
    "no_data": "sans données",
    "no_target": "sans cible",
    "Baseline and target per objective": "Point de départ et cible par objectif",
    "Workload per space (hours a week)": "Charge par espace (heures par semaine)",
    "Baselines are measured over the {days} days before the plan.": (
        "Les points de départ sont mesurés sur les {days} jours précédant le plan."
    ),
}


class Labels:
    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in ("fr_CA", "en") else "fr_CA"

    def __call__(self, msg: str, **kw: Any) -> str:
        text = FR.get(msg, msg) if self.locale == "fr_CA" else msg
        return text.format(**kw) if kw else text

    def date(self, d: dt.date | None) -> str:
        return "—" if d is None else babel_dates.format_date(d, "long", locale=self.locale)

    def number(self, v: float | None, unit: str = "count") -> str:
        if v is None:
            return "—"
        if unit == "ratio":
            fmt = "#,##0.00 %" if self.locale == "fr_CA" else "#,##0.00%"
            return babel_numbers.format_percent(v, format=fmt, locale=self.locale)
        return babel_numbers.format_decimal(round(v, 2), format="#,##0.##", locale=self.locale)


@dataclass
class Chart:
    """A horizontal bar chart: label, and one or two values per bar."""

    title: str
    bars: list[tuple[str, float, float | None]]
    legend: tuple[str, str | None]
    unit: str = ""


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]
    locale: str


def build(
    v: PlanVersionPublic, client_name: str, locale: str, progress: PlanProgress | None = None
) -> Report:
    _ = Labels(locale)
    doc = v.document
    audiences = {a.id: a for a in doc.audiences}
    objectives = {o.id: o for o in doc.objectives}
    animators = {a.id: a for a in doc.animators}
    sections: list[Section] = []

    aud = Section(_("Audiences"))
    for a in doc.audiences:
        bits = [
            f"{_('Age')}: {', '.join(a.age_bands)}" if a.age_bands else "",
            f"{_('Language')}: {a.language}" if a.language else "",
            f"{_('Region')}: {a.region}" if a.region else "",
            f"{_('Interests')}: {', '.join(a.interests)}" if a.interests else "",
            f"{_('Preferred networks')}: {', '.join(n.value for n in a.networks)}"
            if a.networks
            else "",
        ]
        aud.bullets.append(
            f"{a.name} — {a.description}".rstrip(" —") + ". " + "; ".join(b for b in bits if b)
        )
    sections.append(aud)

    obj = Section(_("Objectives and KPIs"))
    obj.paragraphs.append(
        _(
            "Baselines are measured over the {days} days before the plan.",
            days=doc.baseline_window_days,
        )
    )
    rows = []
    bars: list[tuple[str, float, float | None]] = []
    for o in doc.objectives:
        unit = kpi_catalogue.get(o.kpi).unit
        base = o.baseline.value if o.baseline is not None else None
        rows.append(
            [
                audiences[o.audience_id].name if o.audience_id in audiences else "",
                _(o.kind.value),
                o.kpi.replace("_", " "),
                o.network.value if o.network else "web",
                _("no baseline") if base is None else _.number(base, unit),
                _.number(o.target, unit),
                _.date(o.deadline or v.period_end),
            ]
        )
        if base is not None and o.target is not None and unit == "count":
            bars.append(
                (
                    f"{o.kpi.replace('_', ' ')} ({o.network.value if o.network else 'web'})",
                    base,
                    o.target,
                )
            )
    obj.tables.append(
        (
            [
                _("Audience"),
                _("Objective"),
                _("KPI"),
                _("Network"),
                _("Baseline"),
                _("Target"),
                _("Deadline"),
            ],
            rows,
        )
    )
    for o in doc.objectives:
        if o.target_source is not None:
            obj.bullets.append(f"{o.kpi.replace('_', ' ')}: {o.target_source.rationale}")
    if bars:
        obj.charts.append(
            Chart(_("Baseline and target per objective"), bars, (_("Baseline"), _("Target")))
        )
    sections.append(obj)

    ed = Section(_("Editorial line"))
    if doc.pillars:
        ed.tables.append(
            (
                [_("Content pillars"), _("Share")],
                [[p.name, _.number(p.share, "ratio")] for p in doc.pillars],
            )
        )
    s = doc.style
    for label, items in (
        (_("Voice"), s.voice_attributes),
        (_("Do"), s.do),
        (_("Don't"), s.dont),
        (_("Vocabulary"), s.vocabulary),
        (_("Terms to avoid"), s.avoid_terms),
        (_("Hashtags"), [s.hashtag_policy, *s.hashtags] if s.hashtag_policy or s.hashtags else []),
        (_("Languages"), s.languages),
    ):
        if items:
            ed.bullets.append(f"{label}: {', '.join(x for x in items if x)}")
    if s.tone:
        ed.paragraphs.append(f"{_('Tone and style')}: {s.tone}")
    sections.append(ed)

    roles = Section(_("Roles and capacity"))
    roles.paragraphs.append(
        _(
            "Team: {team} h a week; plan: {planned} h a week.",
            team=_.number(v.workload.team_hours),
            planned=_.number(v.workload.planned_hours),
        )
    )
    roles.tables.append(
        (
            [_("Space"), _("Animator"), _("Posts per week"), _("Formats"), _("Planned hours")],
            [
                [
                    sp.network.value + (f" ({sp.handle})" if sp.handle else ""),
                    animators[sp.animator_id].name if sp.animator_id in animators else _("nobody"),
                    _.number(sp.posts_per_week),
                    ", ".join(sp.formats),
                    _.number(v.workload.spaces.get(sp.id)),
                ]
                for sp in doc.spaces
            ],
        )
    )
    if doc.animators:
        roles.tables.append(
            (
                [_("Animator"), _("Hours per week"), _("Planned hours")],
                [
                    [a.name, _.number(a.hours_per_week), _.number(v.workload.animators.get(a.id))]
                    for a in doc.animators
                ],
            )
        )
    if doc.spaces:
        roles.charts.append(
            Chart(
                _("Workload per space (hours a week)"),
                [(sp.network.value, v.workload.spaces.get(sp.id, 0.0), None) for sp in doc.spaces],
                (_("Planned hours"), None),
            )
        )
    if doc.cocreators:
        roles.bullets += [
            f"{_('Co-creators')}: {c.name} ({', '.join(n.value for n in c.networks)}) — {c.reason}"
            for c in doc.cocreators
        ]
    sections.append(roles)

    ph = Section(_("Phases"))
    for p in doc.phases:
        gate = (
            "; ".join(
                _(
                    "{kpi} reaches {threshold}",
                    kpi=objectives[c.objective_id].kpi.replace("_", " ")
                    if c.objective_id in objectives
                    else c.objective_id,
                    threshold=_.number(
                        c.threshold,
                        kpi_catalogue.get(objectives[c.objective_id].kpi).unit
                        if c.objective_id in objectives
                        else "count",
                    ),
                )
                for c in p.gate
            )
            if p.gate
            else _("open from the start")
        )
        nets = ", ".join(n.value for n in p.networks)
        ph.bullets.append(f"{p.name}: {nets}. {_('Gate')}: {gate}. {p.rationale}")
    sections.append(ph)

    if progress is not None:
        pr = Section(_("Plan versus actual on {date}", date=_.date(progress.as_of)))
        pr.tables.append(
            (
                [
                    _("KPI"),
                    _("Network"),
                    _("Baseline"),
                    _("Expected"),
                    _("Actual"),
                    _("Target"),
                    _("Status"),
                ],
                [
                    [
                        k.kpi.replace("_", " "),
                        k.network.value if k.network else "web",
                        _.number(k.baseline, k.unit),
                        _.number(k.expected, k.unit),
                        _.number(k.actual, k.unit),
                        _.number(k.target, k.unit),
                        _(k.status.value),
                    ]
                    for k in progress.kpis
                ],
            )
        )
        sections.append(pr)

    if v.warnings:
        sections.append(Section(_("Warnings"), bullets=[w.message for w in v.warnings]))

    return Report(
        title=f"{_('Action plan')} — {client_name}",
        subtitle=(
            f"{v.plan_name} · "
            f"{_('Version {n} · {status}', n=v.number, status=_(v.status.value))} · "
            f"{_('Period')}: {_.date(v.period_start)} – {_.date(v.period_end)}"
        ),
        sections=sections,
        locale=_.locale,
    )
