"""The portfolio page (Portefeuille clients): list, search, filters, export."""
