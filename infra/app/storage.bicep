// Storage for the Functions host (identity-based AzureWebJobsStorage), the app's tables and queues, and the
// Flex Consumption deployment container. No shared keys, no public blobs, HTTPS and TLS 1.2 only.
param name string
param location string
param tags object = {}
param deploymentContainerName string
param vnetEnabled bool = false

@description('Tables the app reads and writes (the code also creates a missing table on first use).')
param tableNames array = [
  'Tenants'
  'Snapshots'
  'SnapshotRows'
  'CollectionRuns'
  'ReportStatus'
  'OrgMatches'
  'SyncLogs'
  'SyncLocks'
  'CollectLeases'
]

@description('Queues of the queue triggers (functions/sync.py, functions/collect.py), with the poison queues the host moves failures to.')
param queueNames array = [
  'collect'
  'collect-poison'
  'directory-sync'
  'directory-sync-poison'
  'contact-match'
  'contact-match-poison'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35:defaultAction is Deny with vnetEnabled (private endpoints); without a VNet the Flex app has no fixed outbound IPs, so the network stays open and access is by Entra identity only (allowSharedKeyAccess false, checked by tests/test_infra.py).
  // checkov:skip=CKV_AZURE_206:Locally redundant on purpose: snapshots are re-collected from Graph every collection; the Tenants table is small and re-creatable with `o365mon tenants add`.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    dnsEndpointType: 'Standard'
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for tableName in tableNames: {
  parent: tableService
  name: tableName
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
