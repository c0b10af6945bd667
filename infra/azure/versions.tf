# Amber on Azure: the evidence store, the function app and what lets it act, in one subscription.
terraform {
  required_version = ">= 1.6"
  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.21 added azurerm_function_app_flex_consumption.
      version = "~> 4.21"
    }
  }
}

provider "azurerm" {
  # Blobs and queues are reached with Entra ID tokens: the evidence accounts allow no shared key.
  storage_use_azuread = true
  features {
    key_vault {
      # The CMK must outlive a destroy: evidence encrypted with it stays readable.
      purge_soft_delete_on_destroy = false
    }
  }
}

data "azurerm_client_config" "current" {}

data "azurerm_subscription" "current" {}
