"""Labels of NAF rev. 2 codes (INSEE nomenclature d'activités française) — the register
gives the code only. The codes of the demo portfolio and the most common ones of small
businesses; an unlisted code shows without its label."""

from __future__ import annotations

LABELS = {
    "43.21A": "Travaux d'installation électrique dans tous locaux",
    "43.22A": "Travaux d'installation d'eau et de gaz en tous locaux",
    "43.29A": "Travaux d'isolation",
    "43.32A": "Travaux de menuiserie bois et PVC",
    "43.99C": "Travaux de maçonnerie générale et gros œuvre de bâtiment",
    "45.20A": "Entretien et réparation de véhicules automobiles légers",
    "47.11B": "Commerce d'alimentation générale",
    "47.22Z": "Commerce de détail de viandes et de produits à base de viande en magasin spécialisé",
    "47.24Z": "Commerce de détail de pain, pâtisserie et confiserie en magasin spécialisé",
    "47.61Z": "Commerce de détail de livres en magasin spécialisé",
    "47.73Z": "Commerce de détail de produits pharmaceutiques en magasin spécialisé",
    "47.76Z": "Commerce de détail de fleurs, plantes, graines, engrais, animaux de compagnie et aliments pour ces animaux en magasin spécialisé",
    "47.78A": "Commerces de détail d'optique",
    "49.41A": "Transports routiers de fret interurbains",
    "56.10A": "Restauration traditionnelle",
    "56.30Z": "Débits de boissons",
    "62.01Z": "Programmation informatique",
    "62.02A": "Conseil en systèmes et logiciels informatiques",
    "68.31Z": "Agences immobilières",
    "69.20Z": "Activités comptables",
    "70.22Z": "Conseil pour les affaires et autres conseils de gestion",
    "86.23Z": "Pratique dentaire",
    "96.02A": "Coiffure",
}


def naf_label(code: str) -> str:
    return LABELS.get(code, "")
