// Key Vault holding the Microsoft 365 app registration's client secret. RBAC authorization (no access
// policies), soft delete and purge protection. The app reads the secret through a Key Vault reference
// (keyVaultReferenceIdentity = the user-assigned identity, role Key Vault Secrets User in rbac.bicep).
param name string
param location string
param tags object = {}
param vnetEnabled bool = false

@secure()
@description('Client secret to store; empty: leave the secret as it is (set it with `az keyvault secret set`).')
param clientSecret string = ''

@description('Expiry (epoch seconds) recorded on the secret; 0: none.')
param clientSecretExpiresOn int = 0

var clientSecretName = 'o365-client-secret'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109:defaultAction is Deny with vnetEnabled (private endpoint); without a VNet the Flex app resolving its Key Vault reference has no fixed outbound IPs, so access is by Entra RBAC only.
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(clientSecret)) {
  // checkov 3.3.30 does not look inside a conditional (`if`) resource: contentType and exp are set below, and
  // tests/test_infra.py asserts them on the parsed file instead.
  // checkov:skip=CKV_AZURE_41:Opaque to checkov (conditional resource); exp is set from the Entra secret's expiry, asserted by tests/test_infra.py.
  // checkov:skip=CKV_AZURE_114:Opaque to checkov (conditional resource); contentType is set, asserted by tests/test_infra.py.
  parent: vault
  name: clientSecretName
  properties: {
    value: clientSecret
    contentType: 'text/plain'
    attributes: {
      enabled: true
      exp: clientSecretExpiresOn > 0 ? clientSecretExpiresOn : null
    }
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
output clientSecretName string = clientSecretName
