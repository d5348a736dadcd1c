"""Collection: Microsoft Graph (the only msgraph importer), credentials, the dataset catalog, the CSV parser and
the collector that stores each dataset into Table Storage."""
