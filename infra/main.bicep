// o365mon: Flex Consumption (FC1) Linux function app on Python 3.11, secure by default.
// Deployed with `azd up` (see docs/deployment.md). Plain `resource` declarations only (no `br/public:` registry
// modules) so that checkov sees every resource; tests/test_infra.py validates this folder offline.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used in resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of every resource (regions offering Flex Consumption).')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user (azd sets AZURE_PRINCIPAL_ID): gets data-plane roles on storage and Key Vault for `o365mon tenants add` and `az keyvault secret set`. Empty: none.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principalId (ServicePrincipal when a pipeline deploys).')
param principalType string = 'User'

@description('Put storage and Key Vault behind private endpoints in a virtual network, with the app VNet-integrated.')
param vnetEnabled bool = false

@minLength(1)
@description('Application (client) id of the Entra app registration used for every tenant (O365_CLIENT_ID).')
param o365ClientId string

@description('Optional single-tenant shortcut (O365_TENANT_ID); empty: only the tenants of the Tenants table.')
param o365TenantId string = ''

@secure()
@description('Optional client secret, stored in Key Vault as o365-client-secret. Empty: set it later with `az keyvault secret set`.')
param o365ClientSecret string = ''

@description('Expiry of that client secret (seconds since 1970-01-01, the Entra secret\'s own expiry); 0: none recorded.')
param o365ClientSecretExpiresOn int = 0

@description('Optional: name of a Key Vault secret you upload with the app certificate as PEM (az keyvault secret set --file cert.pem); used instead of the client secret.')
param o365ClientCertificateSecretName string = ''

@description('NCRONTAB schedule of the report collection (COLLECT_SCHEDULE).')
param collectSchedule string = '0 0 */6 * * *'

@minValue(1)
@maxValue(32)
@description('Tenants collected at once by `o365mon collect` run in-process (COLLECT_CONCURRENCY); the timers fan out over the collect queue instead.')
param collectConcurrency int = 4

@minValue(1)
@maxValue(15)
@description('Datasets of one tenant fetched at once (COLLECT_REPORT_CONCURRENCY): each report API has its own Graph throttling budget.')
param collectReportConcurrency int = 4

@minValue(1)
@description('Days of collection-run records kept per tenant (RUNS_RETENTION_DAYS).')
param runsRetentionDays int = 30

@description('NCRONTAB schedule of the service health collection (HEALTH_SCHEDULE).')
param healthSchedule string = '0 */5 * * * *'

@description('NCRONTAB schedule of the directory sync and contact matching (SYNC_SCHEDULE).')
param syncSchedule string = '0 0 */6 * * *'

@description('Match and create guest users as contacts (SYNC_INCLUDE_GUESTS).')
param syncIncludeGuests bool = false

@description('Create contacts only for enabled accounts (SYNC_ONLY_ENABLED).')
param syncOnlyEnabled bool = true

@description('Create contacts only for licensed users (SYNC_ONLY_LICENSED).')
param syncOnlyLicensed bool = true

@minValue(0)
@maxValue(100)
@description('Minimum similarity for an organization suggestion (MATCH_SUGGESTION_CUTOFF).')
param matchSuggestionCutoff int = 80

@description('Expiry in seconds of the per-tenant matching lock (MATCH_LOCK_SECONDS).')
param matchLockSeconds int = 300

@description('Seconds a match waits for another run of the same tenant before retrying (MATCH_LOCK_WAIT).')
param matchLockWait int = 60

@description('Document each tenant\'s subscriptions as IT Glue licence assets (SYNC_LICENCES); a tenant\'s sync settings may say otherwise.')
param syncLicences bool = true

@allowed(['tables', 'itglue'])
@description('Where the documentation lives (DOCS_BACKEND): o365mon\'s own tables, or IT Glue through its API.')
param docsBackend string = 'tables'

@allowed(['https://api.itglue.com', 'https://api.eu.itglue.com', 'https://api.au.itglue.com'])
@description('IT Glue API base URL of the account\'s region (ITGLUE_API_URL).')
param itglueApiUrl string = 'https://api.itglue.com'

@description('Name of the Key Vault secret holding the IT Glue API key, uploaded by the operator (az keyvault secret set --name itglue-api-key); empty: no IT Glue key (docsBackend tables).')
param itglueApiKeySecretName string = ''

@description('Application (client) id of the console\'s app registration, with the app roles of infra/console-app-roles.json (docs/deployment.md, "The console"); empty: no sign-in, the console answers 401.')
param consoleClientId string = ''

@allowed(['upn', 'mail'])
@description('Primary e-mail of the contacts written to IT Glue (ITGLUE_PRIMARY_EMAIL): the user name, as IT Glue\'s own integration, or the mail address.')
param itgluePrimaryEmail string = 'upn'

@description('IT Glue contact type id given to the contact of a disabled or removed user (ITGLUE_TERMINATED_CONTACT_TYPE_ID); empty: a dated note line instead.')
param itglueTerminatedContactTypeId string = ''

@description('Microsoft Graph base URL (GRAPH_ENDPOINT); change for national clouds.')
param graphEndpoint string = 'https://graph.microsoft.com'

@description('Entra ID authority (LOGIN_ENDPOINT); change for national clouds.')
param loginEndpoint string = 'https://login.microsoftonline.com'

@description('Largest number of instances Flex Consumption may scale out to (40 is the lowest it accepts). The collect queue trigger scales in its own set of instances, each running up to batchSize + newBatchThreshold = 24 collections (host.json): 40 instances hold 960 tenants in flight (README, Fan-out collection).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-o365mon-${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-o365mon-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-o365mon-${resourceToken}'
    applicationInsightsName: 'appi-o365mon-${resourceToken}'
    location: location
    tags: tags
  }
}

module network 'app/vnet.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-o365mon-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'sto365${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    vnetEnabled: vnetEnabled
  }
}

module vault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-o365-${resourceToken}'
    location: location
    tags: tags
    vnetEnabled: vnetEnabled
    clientSecret: o365ClientSecret
    clientSecretExpiresOn: o365ClientSecretExpiresOn
  }
}

module privateEndpoints 'app/private-endpoints.bicep' = if (vnetEnabled) {
  name: 'private-endpoints'
  scope: rg
  params: {
    location: location
    tags: tags
    virtualNetworkName: 'vnet-o365mon-${resourceToken}'
    subnetName: 'private-endpoints'
    storageAccountName: storage.outputs.name
    keyVaultName: vault.outputs.name
  }
  dependsOn: [
    network
  ]
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: vault.outputs.name
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-o365mon-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: vault.outputs.name
    clientSecretName: vault.outputs.clientSecretName
    clientCertificateSecretName: o365ClientCertificateSecretName
    subnetId: vnetEnabled ? network.outputs.appSubnetId : ''
    maximumInstanceCount: maximumInstanceCount
    o365ClientId: o365ClientId
    o365TenantId: o365TenantId
    collectSchedule: collectSchedule
    collectConcurrency: collectConcurrency
    collectReportConcurrency: collectReportConcurrency
    runsRetentionDays: runsRetentionDays
    healthSchedule: healthSchedule
    syncSchedule: syncSchedule
    syncIncludeGuests: syncIncludeGuests
    syncOnlyEnabled: syncOnlyEnabled
    syncOnlyLicensed: syncOnlyLicensed
    matchSuggestionCutoff: matchSuggestionCutoff
    matchLockSeconds: matchLockSeconds
    matchLockWait: matchLockWait
    syncLicences: syncLicences
    docsBackend: docsBackend
    itglueApiUrl: itglueApiUrl
    itglueApiKeySecretName: itglueApiKeySecretName
    itgluePrimaryEmail: itgluePrimaryEmail
    itglueTerminatedContactTypeId: itglueTerminatedContactTypeId
    graphEndpoint: graphEndpoint
    loginEndpoint: loginEndpoint
    consoleClientId: consoleClientId
  }
  dependsOn: [
    rbac
    privateEndpoints
  ]
}

// Outputs azd stores in .azure/<env>/.env (and prints); the CLI and docs/deployment.md use them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_FUNCTION_NAME string = api.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output AzureWebJobsStorage__tableServiceUri string = storage.outputs.tableEndpoint
output AzureWebJobsStorage__queueServiceUri string = storage.outputs.queueEndpoint
output AzureWebJobsStorage__blobServiceUri string = storage.outputs.blobEndpoint
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
