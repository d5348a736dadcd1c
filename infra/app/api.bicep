// Flex Consumption (FC1) plan and the Linux function app (Python 3.11), with every app setting the code reads
// (shared/settings.py SETTINGS; tests/test_infra.py compares the two lists).
param name string
param planName string
param location string
param tags object = {}
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param keyVaultName string
param clientSecretName string

@description('Name of a Key Vault secret holding the app\'s certificate as PEM (key + certificate), uploaded by the operator; empty: the client secret is used.')
param clientCertificateSecretName string = ''

@description('Subnet delegated to Microsoft.App/environments; empty: no VNet integration.')
param subnetId string = ''

param maximumInstanceCount int = 40

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

param o365ClientId string
param o365TenantId string = ''
param collectSchedule string
param collectConcurrency int
param collectReportConcurrency int
param runsRetentionDays int
param healthSchedule string
param syncSchedule string
param syncIncludeGuests bool
param syncOnlyEnabled bool
param syncOnlyLicensed bool
param matchSuggestionCutoff int
param matchLockSeconds int
param matchLockWait int
param syncLicences bool
param docsBackend string
param itglueApiUrl string
param itglueApiKeySecretName string
param itgluePrimaryEmail string
param itglueTerminatedContactTypeId string
param graphEndpoint string
param loginEndpoint string

@description('Application (client) id of the console\'s app registration (people sign in with it; app roles reader and admin: infra/console-app-roles.json); empty: App Service Authentication stays off and every console page answers 401.')
param consoleClientId string = ''

@description('Name of the Key Vault secret holding the console\'s CSRF key, set once by the operator (docs/deployment.md).')
param consoleCsrfSecretName string = 'console-csrf-key'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225:Zone-redundant Flex Consumption keeps at least 2 always-ready instances billed per function and is not offered in every region; the app holds no state (storage does).
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222:Nagios, Icinga and Centreon pollers call /api/checks over the internet; every check route needs a function key (AuthLevel.FUNCTION).
  // checkov:skip=CKV_AZURE_17:Client certificates would break the pollers' plain HTTPS + x-functions-key calls; access is by function key.
  // checkov:skip=CKV_AZURE_213:Flex Consumption does not support the platform health check (healthCheckPath); /api/health answers for external probes.
  // checkov:skip=CKV_AZURE_212:Always-ready instances are off on purpose (cost): a cold start adds seconds to the first check, and pollers retry; see docs/deployment.md.
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      remoteDebuggingEnabled: false
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// Flex Consumption sets the runtime in functionAppConfig: FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION
// are not allowed here. No connection string and no key anywhere: storage, telemetry and Key Vault use the identity.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov treats every Microsoft.Web/sites/config as the web config; this one is 'appsettings' (the web config
  // is siteConfig on the site above), so the following site checks do not apply to it:
  // checkov:skip=CKV_AZURE_13:Not the web config (appsettings); authentication is by function key on the site.
  // checkov:skip=CKV_AZURE_222:Not the web config (appsettings); public access is decided on the site (skipped there with its reason).
  // checkov:skip=CKV_AZURE_63:Not the web config (appsettings); IIS HTTP logging does not exist on Linux Flex Consumption, logs go to Application Insights.
  // checkov:skip=CKV_AZURE_65:Not the web config (appsettings); IIS detailed error pages do not exist on Linux Flex Consumption.
  // checkov:skip=CKV_AZURE_66:Not the web config (appsettings); IIS failed request tracing does not exist on Linux Flex Consumption.
  // checkov:skip=CKV_AZURE_80:Not the web config (appsettings); a Python app, no .NET Framework.
  // checkov:skip=CKV_AZURE_88:Not the web config (appsettings); Flex Consumption deploys from a blob container and has no Azure Files content share.
  parent: functionApp
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
    AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
    AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    GRAPH_ENDPOINT: graphEndpoint
    LOGIN_ENDPOINT: loginEndpoint
    O365_CLIENT_ID: o365ClientId
    O365_CLIENT_SECRET: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${clientSecretName})'
    O365_CLIENT_CERTIFICATE: empty(clientCertificateSecretName) ? '' : '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${clientCertificateSecretName})'
    O365_TENANT_ID: o365TenantId
    COLLECT_SCHEDULE: collectSchedule
    COLLECT_CONCURRENCY: string(collectConcurrency)
    COLLECT_REPORT_CONCURRENCY: string(collectReportConcurrency)
    COLLECT_TENANT_DEADLINE_S: '600'
    COLLECT_MAX_PAGES: '1000'
    CHECK_REGEX_BUDGET_MS: '250'
    CHECK_DEADLINE_S: '10'
    CHECK_CACHE_MB: '256'
    // Partner discovery (GDAP) stays off until an operator gives a schedule for a partner tenant.
    DISCOVER_SCHEDULE: ''
    DISCOVER_ADD_ENABLED: 'false'
    RUNS_RETENTION_DAYS: string(runsRetentionDays)
    HEALTH_SCHEDULE: healthSchedule
    SYNC_SCHEDULE: syncSchedule
    SYNC_INCLUDE_GUESTS: syncIncludeGuests ? 'true' : 'false'
    SYNC_ONLY_ENABLED: syncOnlyEnabled ? 'true' : 'false'
    SYNC_ONLY_LICENSED: syncOnlyLicensed ? 'true' : 'false'
    MATCH_SUGGESTION_CUTOFF: string(matchSuggestionCutoff)
    MATCH_LOCK_SECONDS: string(matchLockSeconds)
    MATCH_LOCK_WAIT: string(matchLockWait)
    SYNC_LICENCES: syncLicences ? 'true' : 'false'
    DOCS_BACKEND: docsBackend
    ITGLUE_API_URL: itglueApiUrl
    // A third of the account's 3,000 requests per 5 minutes per instance: other integrations spend the rest.
    ITGLUE_RATE_SHARE: '1000'
    // The console's history charts and the licence report's previous month read it; a year and a month.
    HISTORY_RETENTION_DAYS: '400'
    ITGLUE_API_KEY: empty(itglueApiKeySecretName) ? '' : '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${itglueApiKeySecretName})'
    ITGLUE_PRIMARY_EMAIL: itgluePrimaryEmail
    ITGLUE_TERMINATED_CONTACT_TYPE_ID: itglueTerminatedContactTypeId
    CONSOLE_CSRF_KEY: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${consoleCsrfSecretName})'
    // App Service Authentication proves the app to Entra ID with the user-assigned identity (a federated credential
    // on the console's app registration) instead of a client secret: nothing to store or rotate.
    OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identityClientId
  }
}

// App Service Authentication (Easy Auth) with Entra ID: people sign in before any console page; the platform then
// sets X-MS-CLIENT-PRINCIPAL (with the app roles) and WEBSITE_AUTH_ENABLED=True, and drops a client-sent principal.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(consoleClientId)) {
  // checkov treats every Microsoft.Web/sites/config as the web config; this one is 'authsettingsV2':
  // checkov:skip=CKV_AZURE_13:This resource is the App Service Authentication itself (authsettingsV2, asserted by infra/validate.py); checkov looks for the web config's siteAuthEnabled.
  // checkov:skip=CKV_AZURE_63:Not the web config (authsettingsV2); IIS HTTP logging does not exist on Linux Flex Consumption, logs go to Application Insights.
  // checkov:skip=CKV_AZURE_65:Not the web config (authsettingsV2); IIS detailed error pages do not exist on Linux Flex Consumption.
  // checkov:skip=CKV_AZURE_66:Not the web config (authsettingsV2); IIS failed request tracing does not exist on Linux Flex Consumption.
  // checkov:skip=CKV_AZURE_80:Not the web config (authsettingsV2); a Python app, no .NET Framework.
  // checkov:skip=CKV_AZURE_88:Not the web config (authsettingsV2); Flex Consumption deploys from a blob container and has no Azure Files content share.
  // checkov:skip=CKV_AZURE_222:Not the web config (authsettingsV2); public access is decided on the site (skipped there with its reason).
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      // Paths people never sign in for: machines call them with function keys (pollers: /api/checks, scripts:
      // the admin JSON routes) or without (the health probe). shared/console/auth.py KEY_PROTECTED_PATHS holds the
      // same list, which the local runner's dev sign-in honours; tests/test_infra.py compares the two.
      excludedPaths: [
        '/api/health'
        '/api/checks/*'
        '/api/review/*'
        '/api/sync/*'
        '/api/docs/*'
        '/api/openapi.json'
      ]
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: {
        convention: 'NoProxy'
      }
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${loginEndpoint}/${tenant().tenantId}/v2.0'
          clientId: consoleClientId
          clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
        }
        validation: {
          allowedAudiences: [
            consoleClientId
            'api://${consoleClientId}'
          ]
        }
        login: {
          disableWWWAuthenticate: false
        }
      }
    }
    login: {
      // The console reads the person from the principal header only and calls no API on their behalf: no token
      // store (no tokens kept in the app's storage).
      tokenStore: {
        enabled: false
      }
      preserveUrlFragmentsForLogins: false
      cookieExpiration: {
        convention: 'FixedTime'
        timeToExpiration: '08:00:00'
      }
      nonce: {
        validateNonce: true
        nonceExpirationInterval: '00:05:00'
      }
    }
  }
}

output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'
