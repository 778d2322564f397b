//! The dashboard's words in English and Spanish (the language of the
//! team-access pages, from the browser's `Accept-Language`). `{n}`, `{a}`,
//! `{b}`, `{c}` stand for the numbers and names put in.

/// Every text of the dashboard in one language.
pub struct Words {
    pub lang: &'static str,
    pub members: &'static str,
    pub audit: &'static str,
    pub nps: &'static str,
    pub trend: &'static str,
    pub scores: &'static str,
    pub per_step: &'static str,
    pub reasons: &'static str,
    pub no_reasons: &'static str,
    /// `{n}` answers.
    pub answers: &'static str,
    pub latest_other: &'static str,
    pub exports: &'static str,
    pub report_json: &'static str,
    pub webhooks: &'static str,
    pub webhook: &'static str,
    pub pending: &'static str,
    pub delivered: &'static str,
    pub failed: &'static str,
    pub last_delivery: &'static str,
    pub last_error: &'static str,
    pub filters: &'static str,
    pub all: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub time_zone: &'static str,
    pub survey: &'static str,
    pub step: &'static str,
    pub apply: &'static str,
    pub small_sample: &'static str,
    /// `{n}` answers, `{a}`% promoters, `{b}`% passives, `{c}`% detractors.
    pub headline: &'static str,
    pub no_answers: &'static str,
    /// From week `{a}` to week `{b}`.
    pub trend_label: &'static str,
    /// The week `{a}`: NPS `{b}` ± `{c}`.
    pub week: &'static str,
    pub per_score_label: &'static str,
    pub per_step_label: &'static str,
    pub no_step: &'static str,
    /// detractor, passive, promoter.
    pub classes: [&'static str; 3],
}

pub const EN: Words = Words {
    lang: "en",
    members: "Members",
    audit: "Audit log",
    nps: "Net Promoter Score",
    trend: "Trend (weekly NPS, 95% margin shaded)",
    scores: "Scores 0–10",
    per_step: "Classes per funnel step",
    reasons: "Reasons per band",
    no_reasons: "No closed follow-ups in this range yet.",
    answers: "{n} answers",
    latest_other: "Latest “Other” texts",
    exports: "Exports",
    report_json: "Report (JSON)",
    webhooks: "Webhooks",
    webhook: "Webhook",
    pending: "Pending",
    delivered: "Delivered",
    failed: "Failed",
    last_delivery: "Last delivery",
    last_error: "Last error",
    filters: "Filters",
    all: "All",
    from: "From",
    to: "To",
    time_zone: "Time zone",
    survey: "Survey",
    step: "Step",
    apply: "Apply",
    small_sample: "Small sample: fewer than 30 answers, the score can move a lot.",
    headline: "NPS from {n} answers: {a}% promoters, {b}% passives, {c}% detractors.",
    no_answers: "No answers in this range.",
    trend_label: "Weekly NPS from {a} to {b}",
    week: "Week of {a}: NPS {b} ± {c}",
    per_score_label: "Answers per score",
    per_step_label: "Detractor, passive and promoter shares per funnel step",
    no_step: "(no step)",
    classes: ["detractor", "passive", "promoter"],
};

pub const ES: Words = Words {
    lang: "es",
    members: "Miembros",
    audit: "Registro de auditoría",
    nps: "Net Promoter Score",
    trend: "Tendencia (NPS semanal, margen del 95 % sombreado)",
    scores: "Puntuaciones 0–10",
    per_step: "Clases por paso del embudo",
    reasons: "Motivos por franja",
    no_reasons: "Todavía no hay respuestas de lista en este intervalo.",
    answers: "{n} respuestas",
    latest_other: "Últimos textos de «Otro»",
    exports: "Exportaciones",
    report_json: "Informe (JSON)",
    webhooks: "Webhooks",
    webhook: "Webhook",
    pending: "Pendientes",
    delivered: "Entregados",
    failed: "Fallidos",
    last_delivery: "Última entrega",
    last_error: "Último error",
    filters: "Filtros",
    all: "Todos",
    from: "Desde",
    to: "Hasta",
    time_zone: "Zona horaria",
    survey: "Encuesta",
    step: "Paso",
    apply: "Aplicar",
    small_sample: "Muestra pequeña: menos de 30 respuestas, la puntuación puede moverse mucho.",
    headline: "NPS de {n} respuestas: {a} % promotores, {b} % pasivos, {c} % detractores.",
    no_answers: "No hay respuestas en este intervalo.",
    trend_label: "NPS semanal del {a} al {b}",
    week: "Semana del {a}: NPS {b} ± {c}",
    per_score_label: "Respuestas por puntuación",
    per_step_label: "Proporción de detractores, pasivos y promotores por paso del embudo",
    no_step: "(sin paso)",
    classes: ["detractor", "pasivo", "promotor"],
};

/// The words for a page in `lang` (`es`, else English).
pub fn for_lang(lang: &str) -> &'static Words {
    if lang == "es" { &ES } else { &EN }
}

/// `template` with `{n}`, `{a}`, `{b}`, `{c}` put in.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |out, (k, v)| {
        out.replace(&format!("{{{k}}}"), v)
    })
}
