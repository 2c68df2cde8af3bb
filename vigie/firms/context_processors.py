from __future__ import annotations

# The firm admin's settings pages, in the order of the *Paramètres* sub-navigation:
# (URL name, label). Several belong to feature apps; they are named here, by URL name
# only, so that every settings page shows the same menu (templates/firms/settings_nav.html).
SETTINGS_PAGES = [
    ("collaborators", "Collaborateurs"),
    ("invitation_settings", "Relances des invitations"),
    ("invitation_templates", "Modèles d'invitation"),
    ("invitation_test_account", "Compte de test Shine"),
    ("reform_template", "E-mail d'information réforme"),
    ("integrations", "Intégrations"),
    ("registries_connection", "Annuaire (plateforme agréée)"),
    ("imports", "Import de clients"),
]
# The pages under one of them (an import's mapping and report belong to « Import »).
SECTION_OF = {name: name for name, _ in SETTINGS_PAGES} | {
    "import_detail": "imports",
    "collaborator_role": "collaborators",
    "collaborator_active": "collaborators",
    "registries_connection_test": "registries_connection",
}


def firm(request) -> dict:
    membership = getattr(request, "membership", None)
    context = {
        "firm": getattr(request, "firm", None),
        "membership": membership,
        "settings_section": None,
    }
    if membership is not None and membership.is_admin:
        match = getattr(request, "resolver_match", None)
        context["settings_section"] = SECTION_OF.get(match.url_name) if match else None
        if context["settings_section"]:
            context["settings_pages"] = SETTINGS_PAGES
    return context
